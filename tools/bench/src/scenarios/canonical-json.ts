// Canonical JSON throughput: our encoder against the `canonicaljson` npm
// package on a typical (~1 KB) and a large (~60 KB) event, and the strict
// parser against plain JSON.parse. Figures feed docs/adr/0002.

import { createRequire } from 'node:module';
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson, encodeCanonicalJsonBytes, parseJson } from '@membrane/canonical-json';
import { measure } from '../harness.js';
import type { BenchResult } from '../harness.js';

const GROUP = 'canonical-json';

interface NpmCanonicalJson {
  stringify(value: unknown): string;
}
const npmCanonicalJson = createRequire(import.meta.url)('canonicaljson') as NpmCanonicalJson;

/** An m.room.message PDU of about 1 KB, as it travels over federation. */
export function typicalEvent(): JsonObject {
  return {
    auth_events: [
      '$4ZtpFbD3uhhUp5oWjvJ2qiqG3t9bDQhx2i8YFjZk9PQ',
      '$mCnvm3bqb4lMCnRZgpzW8mB3u4lTnIEFFtIuVUcB0x0',
      '$Xb2gsHk2TFHAQ9plYQWeaNnWnY8VqPU6PUa2Q5d8GhE',
    ],
    content: {
      body: 'Le rendez-vous est déplacé à jeudi 14 h — merci de confirmer 👍',
      format: 'org.matrix.custom.html',
      formatted_body: '<p>Le rendez-vous est <strong>déplacé</strong> à jeudi 14 h — merci de confirmer 👍</p>',
      'm.mentions': { user_ids: ['@bob:remote.example'] },
      'm.relates_to': { 'm.in_reply_to': { event_id: '$QbX0V8k2l7YqgK4r9sZpT1uWcN6dHfJ3aE5mBiOyLx0' } },
      msgtype: 'm.text',
    },
    depth: 48213,
    hashes: { sha256: 'Yq2s1yJfHbbfTn6Cr5b1TyHoEYOzXMpQuhuxMbBh1yM' },
    origin: 'bench.example',
    origin_server_ts: 1_764_000_000_000,
    prev_events: ['$hRQk7GkxQ2Y8gq4d0mM3Jt6JcX9rIhKXkFq0c7m6FJk'],
    room_id: '!kHXPnrAmvYQ8tM2ZcBdF:bench.example',
    sender: '@alice.wonderland:bench.example',
    type: 'm.room.message',
    signatures: {
      'bench.example': {
        'ed25519:a_AbCd': 'dGhpcyBpcyBhIHNpZ25hdHVyZSBmcm9tIGFub3RoZXIgc2VydmVyIHBhZGRlZCB0byBzaXp0eSBmb3VyIGJ5dGVz',
      },
    },
    unsigned: { age: 1234, transaction_id: 'm1764000000000.42' },
  };
}

/** An m.room.power_levels PDU of about 60 KB (close to the 64 KiB PDU limit): many keys to sort. */
export function largeEvent(): JsonObject {
  const users: JsonObject = {};
  for (let i = 0; i < 1760; i++) users[`@user${(i * 7919) % 100_000}:server${i % 13}.example`] = i % 10 === 0 ? 100 : 50;
  const events: JsonObject = {};
  for (let i = 0; i < 60; i++) events[`org.example.custom.event_type_${i}`] = 50 + (i % 3) * 25;
  return {
    ...typicalEvent(),
    type: 'm.room.power_levels',
    state_key: '',
    content: { ban: 50, events, events_default: 0, invite: 0, kick: 50, redact: 50, state_default: 50, users, users_default: 0 },
  };
}

export function benchCanonicalJson(): BenchResult[] {
  const results: BenchResult[] = [];
  for (const [label, event] of [
    ['typical', typicalEvent()],
    ['large', largeEvent()],
  ] as const) {
    const canonical = encodeCanonicalJson(event);
    if (npmCanonicalJson.stringify(event) !== canonical) throw new Error(`canonicaljson npm package disagrees on the ${label} event`);
    const size = `${encodeCanonicalJsonBytes(event).length} bytes`;
    // What a peer sends: compact, but in its own key order.
    const wire = JSON.stringify(event);
    results.push(
      measure(GROUP, `encode ${label} event (ours)`, () => encodeCanonicalJson(event), {}, size),
      measure(GROUP, `encode ${label} event to bytes (ours)`, () => encodeCanonicalJsonBytes(event), {}, size),
      measure(GROUP, `encode ${label} event (canonicaljson npm)`, () => npmCanonicalJson.stringify(event), {}, size),
      measure(GROUP, `JSON.stringify ${label} event (baseline, not canonical)`, () => JSON.stringify(event), {}, size),
      measure(GROUP, `parseJson strict ${label} event`, () => parseJson(wire, { strictNumbers: true }), {}, `${wire.length} chars`),
      measure(GROUP, `JSON.parse ${label} event (baseline, no checks)`, () => JSON.parse(wire), {}, `${wire.length} chars`),
    );
  }
  return results;
}
