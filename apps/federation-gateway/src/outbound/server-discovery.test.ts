import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DiscoveryLookups, SrvRecord } from './server-discovery.js';
import { ServerDiscovery, delegatedServerOf, orderSrvRecords } from './server-discovery.js';

interface FakeNet {
  readonly wellKnown?: Record<string, unknown>;
  readonly srv?: Record<string, SrvRecord[]>;
}

function lookups(net: FakeNet, log: string[] = []): DiscoveryLookups {
  return {
    async resolveSrv(name) {
      log.push(`srv ${name}`);
      const records = net.srv?.[name];
      if (records === undefined) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return records;
    },
    async fetchWellKnown(hostname) {
      log.push(`well-known ${hostname}`);
      const document = net.wellKnown?.[hostname];
      if (document === undefined) throw new Error('404');
      return document;
    },
  };
}

const srv = (name: string, port: number, priority = 10, weight = 0): SrvRecord => ({ name, port, priority, weight });

describe('server discovery (spec: resolving server names)', () => {
  it('uses an IPv4 literal as is, with port 8448 by default and no TLS server name', async () => {
    const log: string[] = [];
    const discovery = new ServerDiscovery({ lookups: lookups({}, log) });
    assert.deepEqual(await discovery.resolve('127.0.0.1'), { host: '127.0.0.1', port: 8448, hostHeader: '127.0.0.1' });
    assert.deepEqual(await discovery.resolve('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080, hostHeader: '127.0.0.1:8080' });
    assert.deepEqual(log, [], 'an IP literal needs no lookup');
  });

  it('uses an IPv6 literal without its brackets', async () => {
    const discovery = new ServerDiscovery({ lookups: lookups({}) });
    assert.deepEqual(await discovery.resolve('[::1]:8449'), { host: '::1', port: 8449, hostHeader: '[::1]:8449' });
  });

  it('uses a host name with an explicit port without well-known or SRV', async () => {
    const log: string[] = [];
    const discovery = new ServerDiscovery({ lookups: lookups({ wellKnown: { 'example.org': { 'm.server': 'other.org' } } }, log) });
    assert.deepEqual(await discovery.resolve('example.org:8449'), { host: 'example.org', port: 8449, tlsServerName: 'example.org', hostHeader: 'example.org:8449' });
    assert.deepEqual(log, []);
  });

  it('follows a well-known delegation with a port: connects there and checks the delegated name', async () => {
    const discovery = new ServerDiscovery({ lookups: lookups({ wellKnown: { 'example.org': { 'm.server': 'matrix.example.org:443' } } }) });
    assert.deepEqual(await discovery.resolve('example.org'), { host: 'matrix.example.org', port: 443, tlsServerName: 'matrix.example.org', hostHeader: 'matrix.example.org:443' });
  });

  it('follows a well-known delegation to an IP literal', async () => {
    const discovery = new ServerDiscovery({ lookups: lookups({ wellKnown: { 'example.org': { 'm.server': '10.0.0.5' } } }) });
    assert.deepEqual(await discovery.resolve('example.org'), { host: '10.0.0.5', port: 8448, hostHeader: '10.0.0.5' });
  });

  it('resolves a delegated name without port by _matrix-fed._tcp SRV of the delegated name', async () => {
    const discovery = new ServerDiscovery({
      lookups: lookups({
        wellKnown: { 'example.org': { 'm.server': 'matrix.example.org' } },
        srv: { '_matrix-fed._tcp.matrix.example.org': [srv('fed2.example.org.', 9000, 20), srv('fed1.example.org.', 8999, 10)] },
      }),
    });
    assert.deepEqual(await discovery.resolve('example.org'), { host: 'fed1.example.org', port: 8999, tlsServerName: 'matrix.example.org', hostHeader: 'matrix.example.org' });
  });

  it('falls back to the deprecated _matrix._tcp SRV, then to port 8448 of the delegated name', async () => {
    const viaOld = new ServerDiscovery({
      lookups: lookups({ wellKnown: { 'example.org': { 'm.server': 'm.example.org' } }, srv: { '_matrix._tcp.m.example.org': [srv('old.example.org', 8500)] } }),
    });
    assert.deepEqual(await viaOld.resolve('example.org'), { host: 'old.example.org', port: 8500, tlsServerName: 'm.example.org', hostHeader: 'm.example.org' });
    const plain = new ServerDiscovery({ lookups: lookups({ wellKnown: { 'example.org': { 'm.server': 'm.example.org' } } }) });
    assert.deepEqual(await plain.resolve('example.org'), { host: 'm.example.org', port: 8448, tlsServerName: 'm.example.org', hostHeader: 'm.example.org' });
  });

  it('without a usable well-known, tries SRV of the server name in order, then port 8448', async () => {
    const log: string[] = [];
    const discovery = new ServerDiscovery({ lookups: lookups({ wellKnown: { 'example.org': { 'm.server': 42 } } }, log) });
    assert.deepEqual(await discovery.resolve('example.org'), { host: 'example.org', port: 8448, tlsServerName: 'example.org', hostHeader: 'example.org' });
    assert.deepEqual(log, ['well-known example.org', 'srv _matrix-fed._tcp.example.org', 'srv _matrix._tcp.example.org']);
    const withSrv = new ServerDiscovery({ lookups: lookups({ srv: { '_matrix-fed._tcp.example.org': [srv('fed.example.org', 8443)] } }) });
    assert.deepEqual(await withSrv.resolve('example.org'), { host: 'fed.example.org', port: 8443, tlsServerName: 'example.org', hostHeader: 'example.org' });
  });

  it('caches a result until its lifetime ends (failures for less time than delegations)', async () => {
    let now = 0;
    const log: string[] = [];
    const discovery = new ServerDiscovery({ lookups: lookups({ wellKnown: { 'a.org': { 'm.server': 'b.org:1' } } }, log), clock: () => now, wellKnownTtlMs: 1000, failureTtlMs: 100 });
    await discovery.resolve('a.org');
    await discovery.resolve('a.org');
    await discovery.resolve('c.org');
    await discovery.resolve('c.org');
    assert.equal(log.filter((l) => l.startsWith('well-known')).length, 2);
    now = 500;
    await discovery.resolve('a.org');
    await discovery.resolve('c.org');
    assert.deepEqual(log.filter((l) => l.startsWith('well-known')), ['well-known a.org', 'well-known c.org', 'well-known c.org']);
  });

  it('refuses what is not a server name', async () => {
    const discovery = new ServerDiscovery({ lookups: lookups({}) });
    assert.equal(await discovery.resolve('not a name'), undefined);
    assert.equal(delegatedServerOf({ 'm.server': 'bad name!' }), undefined);
    assert.equal(delegatedServerOf([]), undefined);
  });

  it('orders SRV records by priority, then weight, and drops the "no service" record', () => {
    assert.deepEqual(
      orderSrvRecords([srv('c', 1, 20, 5), srv('a', 1, 10, 1), srv('b', 1, 10, 9), srv('.', 1, 0, 0)]).map((r) => r.name),
      ['b', 'a', 'c'],
    );
  });
});
