// The document itself: well-formed, every $ref resolves, and the validator
// really refuses what does not conform.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { OpenApiDocument } from './openapi.js';

const DOC = fileURLToPath(new URL('../../../../docs/openapi/cs-gateway.yaml', import.meta.url));
const doc = OpenApiDocument.load(DOC);
const json = new Headers({ 'content-type': 'application/json' });

describe('docs/openapi/cs-gateway.yaml', () => {
  it('has no dangling $ref', () => {
    assert.deepEqual(doc.unresolvedRefs(), []);
  });

  it('finds operations under v3, r0 and the paths with their own server', () => {
    assert.equal(doc.findOperation('POST', '/_matrix/client/v3/rooms/!a:hs/leave')?.template, '/_matrix/client/v3/rooms/{roomId}/leave');
    assert.equal(doc.findOperation('POST', '/_matrix/client/r0/rooms/%21a%3Ahs/forget')?.template, '/_matrix/client/r0/rooms/{roomId}/forget');
    assert.equal(doc.findOperation('GET', '/_matrix/client/versions')?.template, '/_matrix/client/versions');
    assert.equal(doc.findOperation('GET', '/readyz')?.template, '/readyz');
    assert.equal(doc.findOperation('GET', '/_matrix/client/v3/rooms/!a:hs/leave'), undefined);
  });

  it('accepts documented answers and refuses undocumented ones', () => {
    assert.deepEqual(doc.checkResponse('POST', '/_matrix/client/v3/rooms/!a:hs/leave', 200, json, {}), []);
    assert.notDeepEqual(doc.checkResponse('POST', '/_matrix/client/v3/rooms/!a:hs/leave', 200, json, { extra: 1 }), []);
    assert.notDeepEqual(doc.checkResponse('POST', '/_matrix/client/v3/rooms/!a:hs/leave', 418, json, {}), []);
    assert.notDeepEqual(doc.checkResponse('POST', '/_matrix/client/v3/rooms/!a:hs/leave', 400, json, { error: 'no errcode' }), []);
    assert.notDeepEqual(doc.checkResponse('POST', '/_matrix/client/v3/rooms/!a:hs/leave', 200, new Headers(), {}), []);
  });

  it('requires Retry-After and retry_after_ms on 429', () => {
    const body = { errcode: 'M_LIMIT_EXCEEDED', error: 'slow down', retry_after_ms: 1500 };
    const path = '/_matrix/client/v3/rooms/!a:hs/leave';
    assert.deepEqual(doc.checkResponse('POST', path, 429, new Headers({ 'content-type': 'application/json', 'retry-after': '2' }), body), []);
    assert.match(doc.checkResponse('POST', path, 429, json, body).join(), /Retry-After is missing/);
    assert.notDeepEqual(doc.checkResponse('POST', path, 429, new Headers({ 'content-type': 'application/json', 'retry-after': '2' }), { errcode: 'M_LIMIT_EXCEEDED', error: 'x' }), []);
  });

  it('describes client events without their federation envelope', () => {
    const event = { event_id: '$e', room_id: '!r:hs', sender: '@a:hs', type: 'm.room.member', state_key: '@a:hs', content: { membership: 'leave' }, origin_server_ts: 1 };
    const path = '/_matrix/client/v3/rooms/!r:hs/members';
    assert.deepEqual(doc.checkResponse('GET', path, 200, json, { chunk: [event] }), []);
    assert.match(doc.checkResponse('GET', path, 200, json, { chunk: [{ ...event, signatures: {} }] }).join(), /unexpected property signatures/);
    assert.match(doc.checkResponse('GET', path, 200, json, { chunk: [{ ...event, content: { membership: 'gone' } }] }).join(), /not one of/);
  });

  it('tells a state event content from a whole client event', () => {
    const path = '/_matrix/client/v3/rooms/!r:hs/state/m.room.member/@a:hs';
    assert.deepEqual(doc.checkResponse('GET', path, 200, json, { membership: 'join' }), []);
    const event = { event_id: '$e', room_id: '!r:hs', sender: '@a:hs', type: 'm.room.member', state_key: '@a:hs', content: { membership: 'join' }, origin_server_ts: 1 };
    assert.deepEqual(doc.checkResponse('GET', path, 200, json, event), []);
  });
});
