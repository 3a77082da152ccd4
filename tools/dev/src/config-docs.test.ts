// docs/configuration.md must say what the configuration schemas say.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '@membrane/testing';
import { generateConfigurationReference } from './config-docs.js';

describe('configuration reference', () => {
  it('is generated from the current schemas (run `npm run docs:config` after changing one)', () => {
    const generated = generateConfigurationReference();
    assert.equal(readFileSync(`${REPO_ROOT}docs/configuration.md`, 'utf8'), generated);
    for (const key of ['`database.engine`', '`remote.address`', '`membership.address`', '`keyFetch.notaries`', '`metrics.port`']) {
      assert.ok(generated.includes(key), `${key} is documented`);
    }
  });
});
