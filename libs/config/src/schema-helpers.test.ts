import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { applyEnvOverrides, validateConfig } from './load-config.js';
import { stringChoice } from './schema-helpers.js';

const schema = z.strictObject({ defaultRoomVersion: stringChoice(['1', '10', '11']).default('10') });

describe('stringChoice', () => {
  it('accepts a numeric-looking choice given as a number by YAML or the environment', () => {
    const tree = applyEnvOverrides({}, { APP_DEFAULT_ROOM_VERSION: '11' }, 'APP_');
    assert.deepEqual(validateConfig(schema, tree), { defaultRoomVersion: '11' });
  });
  it('keeps the default and refuses values outside the choice', () => {
    assert.deepEqual(validateConfig(schema, {}), { defaultRoomVersion: '10' });
    assert.throws(() => validateConfig(schema, { defaultRoomVersion: 12 }), /defaultRoomVersion/);
  });
});
