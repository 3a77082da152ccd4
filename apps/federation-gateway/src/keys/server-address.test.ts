import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveServerAddressWithoutDiscovery as resolve } from './server-address.js';

describe('server address without discovery', () => {
  it('uses IP literals as they are, without a TLS server name, defaulting to port 8448', () => {
    assert.deepEqual(resolve('127.0.0.1:8449'), { host: '127.0.0.1', port: 8449, hostHeader: '127.0.0.1:8449' });
    assert.deepEqual(resolve('10.0.0.1'), { host: '10.0.0.1', port: 8448, hostHeader: '10.0.0.1' });
    assert.deepEqual(resolve('[::1]:8443'), { host: '::1', port: 8443, hostHeader: '[::1]:8443' });
  });

  it('connects to host names on their explicit port or 8448, with the host name as TLS server name', () => {
    assert.deepEqual(resolve('matrix.example.org:443'), { host: 'matrix.example.org', port: 443, tlsServerName: 'matrix.example.org', hostHeader: 'matrix.example.org:443' });
    assert.deepEqual(resolve('example.org'), { host: 'example.org', port: 8448, tlsServerName: 'example.org', hostHeader: 'example.org' });
  });

  it('refuses names that break the server name grammar', () => {
    assert.equal(resolve('bad name'), undefined);
    assert.equal(resolve('host:port'), undefined);
  });
});
