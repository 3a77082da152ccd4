// Signing throughput per ed25519 backend: JSON signing end to end (canonical
// JSON + ed25519 + Base64) on an event-sized object, and raw ed25519 on 32 bytes.

import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson } from '@membrane/canonical-json';
import { nodeCryptoBackend, signJson, signingKeyFromSeed, tweetnaclBackend, verifyJsonSignature } from '@membrane/signing';
import { measure } from '../harness.js';
import type { BenchResult } from '../harness.js';

const GROUP = 'signing';
const SERVER = 'bench.example';

/** A leave event of about 1 KB, shaped like a federated PDU. */
function typicalEvent(): JsonObject {
  return {
    auth_events: [
      '$4ZtpFbD3uhhUp5oWjvJ2qiqG3t9bDQhx2i8YFjZk9PQ',
      '$mCnvm3bqb4lMCnRZgpzW8mB3u4lTnIEFFtIuVUcB0x0',
      '$Xb2gsHk2TFHAQ9plYQWeaNnWnY8VqPU6PUa2Q5d8GhE',
    ],
    content: { membership: 'leave', reason: 'Moving to a different room for the project discussion; thanks all!' },
    depth: 4821,
    hashes: { sha256: 'Yq2s1yJfHbbfTn6Cr5b1TyHoEYOzXMpQuhuxMbBh1yM' },
    origin: SERVER,
    origin_server_ts: 1_764_000_000_000,
    prev_events: ['$hRQk7GkxQ2Y8gq4d0mM3Jt6JcX9rIhKXkFq0c7m6FJk', '$e2Q4n9mK7dVf1p8sLr5tWq3zYx6bHc0aJ2gN4uE8iOo'],
    room_id: '!kHXPnrAmvYQ8tM2ZcBdF:bench.example',
    sender: '@alice.wonderland:bench.example',
    state_key: '@alice.wonderland:bench.example',
    type: 'm.room.member',
    signatures: {
      'other.example': {
        'ed25519:a_AbCd': 'dGhpcyBpcyBhIHNpZ25hdHVyZSBmcm9tIGFub3RoZXIgc2VydmVyIHBhZGRlZCB0byBzaXp0eSBmb3VyIGJ5dGVz',
      },
    },
    unsigned: {
      age: 1234,
      prev_content: { membership: 'join', displayname: 'Alice Wonderland', avatar_url: 'mxc://bench.example/aBcDeFgHiJkLmNoP' },
      replaces_state: '$Rk3mTq9vW2xY5zA8bC1dE4fG7hJ0kL3nP6qS9tV2wX5',
    },
  };
}

export function benchSigning(): BenchResult[] {
  const key = signingKeyFromSeed('bench', Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 0xff));
  const event = typicalEvent();
  const eventBytes = new TextEncoder().encode(encodeCanonicalJson(event)).length;
  const message = Uint8Array.from({ length: 32 }, (_, i) => i);
  const results: BenchResult[] = [];
  for (const backend of [nodeCryptoBackend, tweetnaclBackend]) {
    const signed = signJson(event, SERVER, key, backend);
    const signature = backend.sign(key.seed, message);
    if (!verifyJsonSignature(signed, SERVER, key.keyId, key.publicKey, backend) || !backend.verify(key.publicKey, message, signature)) {
      throw new Error(`${backend.name}: benchmark inputs do not verify`);
    }
    const jsonDetail = `${backend.name}, event of ${eventBytes} bytes`;
    results.push(
      measure(GROUP, `signJson event (${backend.name})`, () => signJson(event, SERVER, key, backend), {}, jsonDetail),
      measure(GROUP, `verifyJsonSignature event (${backend.name})`, () => verifyJsonSignature(signed, SERVER, key.keyId, key.publicKey, backend), {}, jsonDetail),
      measure(GROUP, `raw sign 32 B (${backend.name})`, () => backend.sign(key.seed, message), {}, backend.name),
      measure(GROUP, `raw verify 32 B (${backend.name})`, () => backend.verify(key.publicKey, message, signature), {}, backend.name),
    );
  }
  return results;
}
