import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidServerName, parseServerName, parseUserId, serverNameOf } from './identifiers.js';

describe('isValidServerName (spec appendices, server name grammar)', () => {
  it('accepts DNS names, IPv4 addresses and bracketed IPv6 literals, with or without a port', () => {
    for (const name of [
      'matrix.org',
      'matrix.org:8888',
      'localhost',
      'localhost:8008',
      '1.2.3.4',
      '1.2.3.4:1234',
      '[1234:5678::abcd]',
      '[1234:5678::abcd]:5678',
      '[::1]',
      '[::ffff:1.2.3.4]:443',
      'a-b.example-host.org',
      'x'.repeat(255),
    ]) {
      assert.equal(isValidServerName(name), true, name);
    }
  });

  it('refuses names outside the grammar', () => {
    for (const name of [
      '',
      ':8080',
      'matrix.org:',
      'matrix.org:123456', // port longer than 5 digits
      'matrix.org:80a',
      'matrix.org:80:80',
      'under_score.org',
      'spa ce.org',
      'exämple.org',
      '[1234:5678::abcd', // unclosed bracket
      '[]',
      '[g::1]',
      '[::1]x',
      '[::1]:',
      'x'.repeat(256),
      '1234:5678::abcd', // IPv6 without brackets
    ]) {
      assert.equal(isValidServerName(name), false, name);
    }
  });

  it('splits host and port', () => {
    assert.deepEqual(parseServerName('example.org:8448'), { host: 'example.org', port: 8448 });
    assert.deepEqual(parseServerName('[::1]:99999'), { host: '[::1]', port: 99999 });
    assert.deepEqual(parseServerName('example.org'), { host: 'example.org' });
  });
});

describe('parseUserId', () => {
  it('splits @localpart:server_name at the first colon', () => {
    assert.deepEqual(parseUserId('@alice:example.org'), { localpart: 'alice', serverName: 'example.org' });
    assert.deepEqual(parseUserId('@bob:[::1]:8448'), { localpart: 'bob', serverName: '[::1]:8448' });
  });

  it('accepts historical localparts (any code point but colon and NUL)', () => {
    assert.deepEqual(parseUserId('@Ünïcödé User!:example.org'), { localpart: 'Ünïcödé User!', serverName: 'example.org' });
  });

  it('refuses a missing sigil, an empty localpart, a bad server name, NUL or lone surrogates', () => {
    for (const id of ['alice:example.org', '@:example.org', '@alice', '@alice:', '@alice:bad_server', '@a\u0000b:example.org', '@a\ud800:example.org', '!room:example.org']) {
      assert.equal(parseUserId(id), undefined, JSON.stringify(id));
    }
  });
});

describe('serverNameOf', () => {
  it('returns what follows the first colon of any sigil-prefixed ID', () => {
    assert.equal(serverNameOf('@alice:example.org'), 'example.org');
    assert.equal(serverNameOf('!room:example.org:8448'), 'example.org:8448');
    assert.equal(serverNameOf('$0:domain'), 'domain');
  });

  it('returns undefined for hash-based IDs and invalid server names', () => {
    assert.equal(serverNameOf('$zRz9jjiT9wZc3Hl9ij_74aCmTjqV3YMlj9sj3Uqxg6o'), undefined);
    assert.equal(serverNameOf('!P5-6WTYQ_woy6f4nmleE0XqxjtZcyKGza5_gDN-KAdM'), undefined);
    assert.equal(serverNameOf('$x:not valid'), undefined);
  });
});
