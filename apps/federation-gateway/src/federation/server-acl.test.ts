import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, isServerAllowedByAcl, parseServerAcl } from './server-acl.js';

const allowed = (serverName: string, content: unknown): boolean => isServerAllowedByAcl(serverName, parseServerAcl(content));

describe('server ACL globs', () => {
  it('match the whole name, * any run, ? exactly one character, case-insensitively', () => {
    assert.equal(globToRegExp('*.evil.com').test('a.b.evil.com'), true);
    assert.equal(globToRegExp('*.evil.com').test('evil.com'), false);
    assert.equal(globToRegExp('evil.com').test('notevil.com'), false);
    assert.equal(globToRegExp('ev?l.com').test('evil.com'), true);
    assert.equal(globToRegExp('ev?l.com').test('evl.com'), false);
    assert.equal(globToRegExp('EVIL.com').test('evil.COM'), true);
    assert.equal(globToRegExp('*').test(''), true);
  });

  it('treat regular expression characters literally', () => {
    assert.equal(globToRegExp('a.b').test('axb'), false);
    assert.equal(globToRegExp('a+b').test('aab'), false);
    assert.equal(globToRegExp('a+b').test('a+b'), true);
    assert.equal(globToRegExp('[::1]').test('[::1]'), true);
    assert.equal(globToRegExp('(x)|y').test('y'), false);
  });
});

describe('server ACL evaluation', () => {
  it('allows only what an allow glob names', () => {
    assert.equal(allowed('good.org', { allow: ['good.org'] }), true);
    assert.equal(allowed('other.org', { allow: ['good.org'] }), false);
    assert.equal(allowed('good.org', {}), false, 'an empty allow list denies everyone');
  });

  it('lets deny win over allow', () => {
    const content = { allow: ['*'], deny: ['*.evil.com', 'evil.com'] };
    assert.equal(allowed('matrix.org', content), true);
    assert.equal(allowed('evil.com', content), false);
    assert.equal(allowed('x.evil.com', content), false);
  });

  it('ignores the port of the server name', () => {
    assert.equal(allowed('evil.com:8448', { allow: ['*'], deny: ['evil.com'] }), false);
    assert.equal(allowed('good.org:443', { allow: ['good.org'] }), true);
    assert.equal(allowed('good.org:443', { allow: ['good.org:443'] }), false);
  });

  it('denies IPv4 and IPv6 literals when allow_ip_literals is false, and allows them by default', () => {
    assert.equal(allowed('127.0.0.1:8448', { allow: ['*'], allow_ip_literals: false }), false);
    assert.equal(allowed('[::1]:8448', { allow: ['*'], allow_ip_literals: false }), false);
    assert.equal(allowed('1.2.3.4.example', { allow: ['*'], allow_ip_literals: false }), true);
    assert.equal(allowed('127.0.0.1:8448', { allow: ['*'] }), true);
    assert.equal(allowed('127.0.0.1', { allow: ['*'], deny: ['127.0.0.*'] }), false);
  });

  it('reads malformed content the way Synapse does: bad lists are empty, bad entries skipped, bad flag true', () => {
    assert.equal(allowed('good.org', { allow: 'good.org' }), false);
    assert.equal(allowed('good.org', { allow: [1, null, 'good.org'] }), true);
    assert.equal(allowed('evil.com', { allow: ['*'], deny: 'evil.com' }), true);
    assert.equal(allowed('127.0.0.1', { allow: ['*'], allow_ip_literals: 'no' }), true);
    assert.equal(allowed('good.org', null), false);
  });

  it('denies a server name that is not valid', () => {
    assert.equal(allowed('bad name', { allow: ['*'] }), false);
  });
});
