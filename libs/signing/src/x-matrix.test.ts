import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import type { JsonValue } from '@membrane/canonical-json';
import { nodeCryptoBackend, tweetnaclBackend } from './backends.js';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.js';
import { generateSigningKey, signingKeyFromSeed } from './signing-key.js';
import { X_MATRIX_VECTOR as V } from './test-support/vectors.js';
import {
  XMatrixHeaderError,
  buildRequestSigningObject,
  formatXMatrixHeader,
  parseXMatrixHeader,
  signRequest,
  verifyRequestSignature,
} from './x-matrix.js';
import type { XMatrixHeaderProblem } from './x-matrix.js';

const key = signingKeyFromSeed(V.version, decodeBase64(V.seedBase64));
const publicKey = decodeBase64(V.publicKeyBase64);
const putContent = JSON.parse(V.put.body) as JsonValue;

const getRequest = { method: V.get.method, uri: V.get.uri, origin: V.origin, destination: V.destination };
const putRequest = { method: V.put.method, uri: V.put.uri, origin: V.origin, destination: V.destination, content: putContent };

describe('X-Matrix signing (gomatrixserverlib vectors, MATRIX_FACTS V10)', () => {
  it('derives the vector public key', () => {
    assert.equal(encodeUnpaddedBase64(key.publicKey), V.publicKeyBase64);
  });

  it('signs exactly method, uri, origin and destination for a GET', () => {
    const object = buildRequestSigningObject(getRequest);
    assert.equal(encodeCanonicalJson(object), V.get.signedBytes);
    assert.ok(!('content' in object));
  });

  it('adds the parsed body as content for a PUT', () => {
    assert.deepEqual(buildRequestSigningObject(putRequest)['content'], putContent);
    assert.deepEqual(buildRequestSigningObject({ ...getRequest, content: undefined }), buildRequestSigningObject(getRequest));
  });

  for (const backend of [nodeCryptoBackend, tweetnaclBackend]) {
    it(`reproduces the GET and PUT signatures (${backend.name})`, () => {
      const get = parseXMatrixHeader(signRequest(getRequest, key, backend));
      const put = parseXMatrixHeader(signRequest(putRequest, key, backend));
      assert.equal(get.sig, V.get.sig);
      assert.equal(put.sig, V.put.sig);
    });
  }

  it('formats the header with one space, lower-case names, quoted values and no spaces', () => {
    assert.equal(
      signRequest(getRequest, key),
      `X-Matrix origin="${V.origin}",destination="${V.destination}",key="${V.keyId}",sig="${V.get.sig}"`,
    );
  });

  it('parses the vector headers', () => {
    assert.deepEqual(parseXMatrixHeader(V.get.authorizationHeader), { origin: V.origin, key: V.keyId, sig: V.get.sig, destination: V.destination });
    assert.deepEqual(parseXMatrixHeader(V.put.authorizationHeader), { origin: V.origin, key: V.keyId, sig: V.put.sig, destination: V.destination });
  });

  it('verifies the vector requests as their destination', () => {
    const receivedGet = { method: 'GET', uri: V.get.uri, destination: V.destination };
    const receivedPut = { method: 'PUT', uri: V.put.uri, destination: V.destination, content: putContent };
    assert.equal(verifyRequestSignature(receivedGet, parseXMatrixHeader(V.get.authorizationHeader), publicKey), true);
    assert.equal(verifyRequestSignature(receivedPut, parseXMatrixHeader(V.put.authorizationHeader), publicKey, tweetnaclBackend), true);
  });

  it('rejects a request whose method, uri, body, origin or destination differ from what was signed', () => {
    const auth = parseXMatrixHeader(V.put.authorizationHeader);
    const received = { method: 'PUT', uri: V.put.uri, destination: V.destination, content: putContent };
    assert.equal(verifyRequestSignature({ ...received, method: 'POST' }, auth, publicKey), false);
    assert.equal(verifyRequestSignature({ ...received, uri: `${V.put.uri}x` }, auth, publicKey), false);
    assert.equal(verifyRequestSignature({ ...received, content: { ...(putContent as object), pdus: [{}] } }, auth, publicKey), false);
    assert.equal(verifyRequestSignature({ ...received, content: undefined }, auth, publicKey), false);
    assert.equal(verifyRequestSignature(received, { ...auth, origin: 'evil.example' }, publicKey), false);
    assert.equal(verifyRequestSignature({ ...received, destination: 'other.example' }, { ...auth, destination: 'other.example' }, publicKey), false);
  });

  it('refuses a header addressed to another server', () => {
    const auth = parseXMatrixHeader(V.get.authorizationHeader);
    assert.equal(verifyRequestSignature({ method: 'GET', uri: V.get.uri, destination: 'us.example' }, auth, publicKey), false);
  });

  it('verifies a header without destination against our own name, as Synapse does', () => {
    const { destination: _destination, ...withoutDestination } = parseXMatrixHeader(V.get.authorizationHeader);
    assert.equal(verifyRequestSignature({ method: 'GET', uri: V.get.uri, destination: V.destination }, withoutDestination, publicKey), true);
    assert.equal(verifyRequestSignature({ method: 'GET', uri: V.get.uri, destination: 'us.example' }, withoutDestination, publicKey), false);
  });

  it('rejects a wrong key, a garbled signature and a non-ed25519 key id', () => {
    const auth = parseXMatrixHeader(V.get.authorizationHeader);
    const received = { method: 'GET', uri: V.get.uri, destination: V.destination };
    assert.equal(verifyRequestSignature(received, auth, generateSigningKey().publicKey), false);
    assert.equal(verifyRequestSignature(received, { ...auth, sig: 'not*base64' }, publicKey), false);
    assert.equal(verifyRequestSignature(received, { ...auth, sig: `A${auth.sig.slice(1)}` }, publicKey), false);
    assert.equal(verifyRequestSignature(received, { ...auth, key: 'curve25519:a_Obwu' }, publicKey), false);
  });

  it('round-trips its own signed requests', () => {
    const ours = generateSigningKey();
    const request = { method: 'PUT', uri: '/_matrix/federation/v2/send_leave/!r%3Aa.example/%24e?x=1', origin: 'a.example:8448', destination: 'b.example', content: { type: 'm.room.member', n: [1, 2, 3] } };
    const auth = parseXMatrixHeader(signRequest(request, ours));
    assert.equal(auth.origin, 'a.example:8448');
    assert.equal(auth.key, ours.keyId);
    assert.equal(verifyRequestSignature({ method: 'PUT', uri: request.uri, destination: 'b.example', content: request.content }, auth, ours.publicKey), true);
  });
});

describe('X-Matrix header parsing', () => {
  const expected = { origin: 'foo', key: 'ed25519:1', sig: 'sig', destination: 'bar' };

  it('accepts the cases gomatrixserverlib and Synapse both accept', () => {
    assert.deepEqual(parseXMatrixHeader('X-Matrix origin=foo , key="ed25519:1",  sig="sig",\t\tdestination="bar"'), expected);
    assert.deepEqual(parseXMatrixHeader('X-Matrix origin=foo,key="ed25519:1",sig="sig",destination="bar"'), expected);
  });

  it('accepts the RFC 9110 forms only gomatrixserverlib accepts: tabs, spaces around =, empty list elements', () => {
    assert.deepEqual(parseXMatrixHeader('X-Matrix \torigin=foo\t,\t\tkey="ed25519:1",\tsig="sig"\t,destination\t="bar"'), expected);
    assert.deepEqual(parseXMatrixHeader('X-Matrix \torigin=foo\t,\t,destination\t="bar",\tsig="sig", key="ed25519:1"'), expected);
    assert.deepEqual(parseXMatrixHeader('X-Matrix \torigin=foo\t,\t,destination\t=  "bar"  ,\tsig=\t"sig" , key="ed25519:1"'), expected);
  });

  it('treats names case-insensitively and allows ":" in unquoted values', () => {
    assert.deepEqual(parseXMatrixHeader('X-Matrix ORIGIN=foo,Key=ed25519:1,SIG=abc,destination=bar:8448'), {
      origin: 'foo',
      key: 'ed25519:1',
      sig: 'abc',
      destination: 'bar:8448',
    });
  });

  it('undoes backslash escapes in quoted values and tolerates a missing destination', () => {
    const auth = parseXMatrixHeader('X-Matrix origin="a\\"b",key="ed25519:1",sig="s"');
    assert.deepEqual(auth, { origin: 'a"b', key: 'ed25519:1', sig: 's' });
    assert.ok(!('destination' in auth));
    assert.equal(parseXMatrixHeader('X-Matrix origin="a\\\\b\\c",key=k,sig=s').origin, 'a\\bc');
  });

  it('accepts an unquoted Base64 signature with / + and =, and ignores unknown parameters', () => {
    assert.deepEqual(parseXMatrixHeader('X-Matrix origin=o,key=ed25519:1,sig=ab+/cd==,realm="x, y",future=1'), { origin: 'o', key: 'ed25519:1', sig: 'ab+/cd==' });
  });

  it('accepts the scheme name in any case', () => {
    assert.equal(parseXMatrixHeader('x-matrix origin=o,key=k,sig=s').origin, 'o');
  });

  const problem = (header: string, expectedProblem: XMatrixHeaderProblem, message?: RegExp): void => {
    assert.throws(
      () => parseXMatrixHeader(header),
      (error: unknown) =>
        error instanceof XMatrixHeaderError && error.problem === expectedProblem && (message === undefined || message.test(error.message)),
      `${JSON.stringify(header)} should fail with ${expectedProblem}`,
    );
  };

  it('says when the header is not X-Matrix', () => {
    problem('Bearer abc', 'not-x-matrix');
    problem('X-Matrixorigin=o,key=k,sig=s', 'not-x-matrix');
    problem('', 'not-x-matrix');
    problem('Basic X-Matrix origin=o', 'not-x-matrix');
  });

  it('says which required parameter is missing or empty', () => {
    problem('X-Matrix key=k,sig=s', 'missing-parameter', /no origin/);
    problem('X-Matrix origin=o,sig=s', 'missing-parameter', /no key/);
    problem('X-Matrix origin=o,key=k', 'missing-parameter', /no sig/);
    problem('X-Matrix', 'missing-parameter', /no origin/);
    problem('X-Matrix origin="",key=k,sig=s', 'empty-parameter', /origin is empty/);
    problem('X-Matrix origin=o,key=k,sig=s,destination=""', 'empty-parameter', /destination is empty/);
  });

  it('refuses a repeated parameter, whatever its case', () => {
    problem('X-Matrix origin=o,key=k,sig=s,Origin=p', 'duplicate-parameter', /origin/);
  });

  it('says where the syntax breaks', () => {
    problem('X-Matrix origin=o,key=k,sig="s', 'malformed', /unterminated quoted value/);
    problem('X-Matrix origin=o,key=k,sig="s\\', 'malformed', /unterminated escape/);
    problem('X-Matrix origin o,key=k,sig=s', 'malformed', /expected '=' after origin/);
    problem('X-Matrix origin=,key=k,sig=s', 'malformed', /expected a value for origin/);
    problem('X-Matrix origin=o key=k,sig=s', 'malformed', /unexpected character after origin/);
    problem('X-Matrix origin="o"x,key=k,sig=s', 'malformed', /unexpected character after origin/);
    problem('X-Matrix =o,key=k,sig=s', 'malformed', /expected a parameter name/);
    problem('X-Matrix abc==', 'missing-parameter');
  });
});

describe('X-Matrix header formatting', () => {
  it('round-trips through the parser, with and without destination', () => {
    const auth = { origin: 'a.example:8448', key: 'ed25519:a_1', sig: 'c2ln+/', destination: 'b.example' };
    assert.deepEqual(parseXMatrixHeader(formatXMatrixHeader(auth)), auth);
    const { destination: _d, ...withoutDestination } = auth;
    assert.equal(formatXMatrixHeader(withoutDestination), 'X-Matrix origin="a.example:8448",key="ed25519:a_1",sig="c2ln+/"');
  });

  it('refuses values that would need escaping', () => {
    assert.throws(() => formatXMatrixHeader({ origin: 'a"b', key: 'k', sig: 's' }), XMatrixHeaderError);
    assert.throws(() => formatXMatrixHeader({ origin: 'a\\b', key: 'k', sig: 's' }), XMatrixHeaderError);
    assert.throws(() => formatXMatrixHeader({ origin: 'a\nb', key: 'k', sig: 's' }), XMatrixHeaderError);
  });
});
