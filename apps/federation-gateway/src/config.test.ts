import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@membrane/config';
import { encodeVerifyKey, generateSigningKey } from '@membrane/signing';
import { listenAddressOf, loadFederationGatewayConfig, signingKeyPathOf } from './config.js';

describe('federation gateway configuration', () => {
  it('runs on one machine by default: HTTPS on 8448, membership on 50051, key in .data', () => {
    const config = loadFederationGatewayConfig(undefined, {});
    assert.equal(config.serverName, 'localhost:8448');
    assert.deepEqual(listenAddressOf(config), { host: '127.0.0.1', port: 8448 });
    assert.equal(config.tls.enabled, true);
    assert.equal(config.membership.address, '127.0.0.1:50051');
    assert.equal(signingKeyPathOf(config), '.data/signing.key');
    assert.equal(config.keys.validityPeriodMs, 24 * 60 * 60 * 1000);
    assert.deepEqual(config.keys.oldVerifyKeys, []);
  });

  it('reads MEMBRANE_FED_* environment variables, including lists as JSON', () => {
    const old = generateSigningKey('old');
    const config = loadFederationGatewayConfig(undefined, {
      MEMBRANE_FED_SERVER_NAME: 'example.org',
      MEMBRANE_FED_LISTEN: '[::1]:8443',
      MEMBRANE_FED_TLS__ENABLED: 'false',
      MEMBRANE_FED_SIGNING_KEY_PATH: '/keys/signing.key',
      MEMBRANE_FED_MEMBERSHIP__ADDRESS: 'membership:50051',
      MEMBRANE_FED_KEY_FETCH__TIMEOUT_MS: '2500',
      MEMBRANE_FED_KEYS__OLD_VERIFY_KEYS: JSON.stringify([{ keyId: old.keyId, publicKey: encodeVerifyKey(old), expiredTs: 5 }]),
    });
    assert.equal(config.serverName, 'example.org');
    assert.deepEqual(listenAddressOf(config), { host: '::1', port: 8443 });
    assert.equal(config.tls.enabled, false);
    assert.equal(signingKeyPathOf(config), '/keys/signing.key');
    assert.equal(config.membership.address, 'membership:50051');
    assert.equal(config.keyFetch.timeoutMs, 2500);
    assert.deepEqual(config.keys.oldVerifyKeys, [{ keyId: old.keyId, publicKey: encodeVerifyKey(old), expiredTs: 5 }]);
  });

  it('serves RemoteMembershipService on 50052 and drains the outbox by default, with bounded retries', () => {
    const config = loadFederationGatewayConfig(undefined, {});
    assert.equal(config.grpc.listen, '127.0.0.1:50052');
    assert.deepEqual(config.sender, { enabled: true, concurrency: 4, pollIntervalMs: 5_000, retryInitialMs: 5_000, retryMaxMs: 4 * 60 * 60 * 1000, leaseMs: 120_000 });
    assert.deepEqual(config.outbound, { requestTimeoutMs: 30_000, operationTimeoutMs: 120_000, maxServers: 10, backoffInitialMs: 2_000, backoffMaxMs: 60 * 60 * 1000 });
    const tuned = loadFederationGatewayConfig(undefined, { MEMBRANE_FED_GRPC__LISTEN: '0.0.0.0:0', MEMBRANE_FED_SENDER__ENABLED: 'false', MEMBRANE_FED_SENDER__RETRY_MAX_MS: '1000' });
    assert.equal(tuned.grpc.listen, '0.0.0.0:0');
    assert.equal(tuned.sender.enabled, false);
    assert.equal(tuned.sender.retryMaxMs, 1000);
    assert.throws(() => loadFederationGatewayConfig(undefined, { MEMBRANE_FED_GRPC__LISTEN: 'nowhere' }), /grpc\.listen/);
  });

  it('asks no notary by default and reads notaries with their keys from the environment', () => {
    assert.deepEqual(loadFederationGatewayConfig(undefined, {}).keyFetch.notaries, []);
    const notaryKey = generateSigningKey('n1');
    const notaries = [{ serverName: 'notary.example:8448', verifyKeys: { [notaryKey.keyId]: encodeVerifyKey(notaryKey) } }];
    const config = loadFederationGatewayConfig(undefined, { MEMBRANE_FED_KEY_FETCH__NOTARIES: JSON.stringify(notaries) });
    assert.deepEqual(config.keyFetch.notaries, notaries);
    assert.throws(
      () => loadFederationGatewayConfig(undefined, { MEMBRANE_FED_KEY_FETCH__NOTARIES: JSON.stringify([{ serverName: 'bad name!', verifyKeys: {} }]) }),
      (err: unknown) => err instanceof ConfigError && /keyFetch\.notaries/.test(err.message),
    );
  });

  it('names the bad key', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ MEMBRANE_FED_SERVER_NAME: 'not a name!' }, /serverName/],
      [{ MEMBRANE_FED_TLS__CERT_FILE: '/c.pem' }, /tls\.certFile: certFile and keyFile go together/],
      [{ MEMBRANE_FED_LISTEN: 'nowhere' }, /listen/],
      [{ MEMBRANE_FED_KEYS__VALIDITY_PERIOD_MS: '1000' }, /keys\.validityPeriodMs/],
      [{ MEMBRANE_FED_KEYS__OLD_VERIFY_KEYS: '[{"keyId":"ed25519:x","publicKey":"short","expiredTs":1}]' }, /keys\.oldVerifyKeys\.0\.publicKey/],
      [{ MEMBRANE_FED_UNKNOWN: 'x' }, /unrecognized|unknown/i],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadFederationGatewayConfig(undefined, env), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });
});
