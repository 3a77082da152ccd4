import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { REDACTED, createAppLogger, scrubUrl } from './index.js';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

const TOKEN = 'syt_YWxpY2U_SecretTokenValue_1a2b3c';
const PASSWORD = 'correct-horse-battery-staple';
const SIGNING_KEY = 'ed25519 a_abcd SecretSeedBase64Value';

describe('app logger redaction', () => {
  it('never writes access tokens, Authorization headers, passwords or keys', () => {
    const out = capture();
    const logger = createAppLogger({ app: 'test', destination: out.stream });
    logger.info(
      {
        req: {
          method: 'POST',
          url: `/_matrix/client/v3/rooms/!r:hs/leave?access_token=${TOKEN}`,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: { auth: { type: 'm.login.password', password: PASSWORD } },
        },
      },
      'request',
    );
    logger.info({ access_token: TOKEN, user: { password: PASSWORD }, config: { signingKey: SIGNING_KEY } }, 'other shapes');
    logger.info({ path: `/_matrix/client/v3/sync?since=s1&access_token=${TOKEN}` }, 'path with a token');
    const text = out.text();
    for (const secret of [TOKEN, PASSWORD, SIGNING_KEY, 'SecretSeedBase64Value']) assert.ok(!text.includes(secret), `${secret} was logged: ${text}`);
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    const req = lines[0]?.['req'] as { headers: Record<string, string>; url: string; method: string };
    assert.equal(req.headers['authorization'], REDACTED);
    assert.equal(req.headers['content-type'], 'application/json', 'harmless fields stay');
    assert.equal(req.method, 'POST');
    assert.equal(lines[1]?.['access_token'], REDACTED);
    assert.equal(lines[0]?.['app'], 'test');
    assert.equal(lines[2]?.['path'], `/_matrix/client/v3/sync?since=s1&access_token=${REDACTED}`);
  });

  it('scrubs credentials from query strings and leaves other parameters', () => {
    assert.equal(scrubUrl('/x?a=1&access_token=abc&b=2'), `/x?a=1&access_token=${REDACTED}&b=2`);
    assert.equal(scrubUrl('/x?ACCESS_TOKEN=abc'), `/x?ACCESS_TOKEN=${REDACTED}`);
    assert.equal(scrubUrl('/x?tokenish=1'), '/x?tokenish=1');
  });
});
