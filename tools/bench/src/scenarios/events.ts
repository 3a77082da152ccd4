// Event throughput: building a leave (content hash + redaction + ed25519
// signature + event ID) in a modern (v11) and a legacy (v1) room, computing
// event IDs, validating PDUs, and verifying event signatures.

import { buildPdu, computeEventId, getRoomVersion, validatePdu, verifyEventSignatures } from '@membrane/events';
import type { BuildPduInput, CitedEvent, PrevEvent, RoomVersion } from '@membrane/events';
import { signingKeyFromSeed } from '@membrane/signing';
import { measure } from '../harness.js';
import type { BenchResult } from '../harness.js';

const GROUP = 'events';
const SERVER = 'bench.example';
const KEY = signingKeyFromSeed('bench', new Uint8Array(32).fill(42));
const SIGNER = { serverName: SERVER, key: KEY };
const lookup = (server: string, keyId: string): Uint8Array | undefined => (server === SERVER && keyId === KEY.keyId ? KEY.publicKey : undefined);

/** Plausible references: three auth events and two prev events, with hashes for v1 citations. */
function references(version: RoomVersion): { prevEvents: PrevEvent[]; authEvents: CitedEvent[] } {
  const id = (n: number): string => (version.eventFormat === 'v1' ? `$event${n}abcdefghijkl:${SERVER}` : `$${String(n).padStart(43, 'A')}`);
  const hash = version.eventFormat === 'v1' ? { referenceHash: 'Yq2s1yJfHbbfTn6Cr5b1TyHoEYOzXMpQuhuxMbBh1yM' } : {};
  return {
    prevEvents: [1, 2].map((n) => ({ eventId: id(n), depth: 4820, ...hash })),
    authEvents: [3, 4, 5].map((n) => ({ eventId: id(n), ...hash })),
  };
}

function leaveInput(version: RoomVersion): BuildPduInput {
  return {
    version,
    proto: {
      type: 'm.room.member',
      sender: `@alice.wonderland:${SERVER}`,
      state_key: `@alice.wonderland:${SERVER}`,
      room_id: `!kHXPnrAmvYQ8tM2ZcBdF:${SERVER}`,
      content: { membership: 'leave', reason: 'Moving to a different room for the project discussion; thanks all!' },
    },
    ...references(version),
    originServerTs: 1_764_000_000_000,
  };
}

export function benchEvents(): BenchResult[] {
  const results: BenchResult[] = [];
  const v11 = getRoomVersion('11');
  const v1 = getRoomVersion('1');

  for (const version of [v11, v1]) {
    const input = leaveInput(version);
    results.push(
      measure(GROUP, `build + hash + sign leave (v${version.id})`, () => buildPdu(input, SIGNER), {}, 'node:crypto ed25519; includes event ID'),
    );
  }

  const { event } = buildPdu(leaveInput(v11), SIGNER);
  const wire = JSON.parse(JSON.stringify(event)) as unknown;
  results.push(measure(GROUP, 'compute event ID (v11)', () => computeEventId(event, v11), {}, 'redact + canonical JSON + SHA-256'));
  results.push(measure(GROUP, 'validatePdu (v11 leave)', () => validatePdu(wire, v11), {}, 'format, canonical JSON, sizes'));
  results.push(measure(GROUP, 'verifyEventSignatures (v11 leave)', () => verifyEventSignatures(event, v11, lookup), {}, 'one signature, node:crypto'));
  return results;
}
