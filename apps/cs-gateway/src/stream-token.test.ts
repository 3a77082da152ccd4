import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { formatStreamToken, parseStreamToken } from './stream-token.js';

describe('stream tokens', () => {
  it('round-trips positions as s<position>', () => {
    for (const position of [0, 1, 42, Number.MAX_SAFE_INTEGER]) {
      assert.equal(parseStreamToken(formatStreamToken(position), 'since'), position);
    }
    assert.equal(formatStreamToken(17), 's17');
  });

  it('refuses anything else with 400 M_INVALID_PARAM naming the parameter', () => {
    for (const bad of ['', 's', '17', 's-1', 's01', 's1.5', 'S1', 's1 ', 't1', 's99999999999999999', 's1e3', 'END']) {
      assert.throws(
        () => parseStreamToken(bad, 'from'),
        (err: unknown) => err instanceof MatrixError && err.status === 400 && err.errcode === 'M_INVALID_PARAM' && err.message.includes('"from"'),
        bad,
      );
    }
  });
});
