// `npm run start:two`: two homeservers federating on this machine, each the
// three apps as processes, with TLS certificates from a local CA they both
// trust. Data lives under .data/two/ (or MEMBRANE_DATA_DIR); Ctrl-C stops both.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HomeserverStack } from '@membrane/testing';
import { REPO_ROOT, createTestCertificateAuthority, startHomeserverStack } from '@membrane/testing';

const root = resolve(process.env['MEMBRANE_DATA_DIR'] ?? `${REPO_ROOT}.data/two`);
mkdirSync(root, { recursive: true });
const ca = createTestCertificateAuthority(`${root}/ca`);

const stacks: HomeserverStack[] = [];
async function stopAll(code: number): Promise<never> {
  await Promise.allSettled(stacks.map((s) => s.stop()));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  for (const name of ['hs1', 'hs2']) {
    const stack = await startHomeserverStack({ dir: `${root}/${name}`, ca });
    stacks.push(stack);
    process.stdout.write(`${name}: server name ${stack.serverName}, client API ${stack.csUrl}, federation ${stack.federationUrl}\n`);
  }
} catch (err) {
  process.stderr.write(`a homeserver failed to start: ${(err as Error).message}\n`);
  await stopAll(1);
}

const [hs1, hs2] = stacks as [HomeserverStack, HomeserverStack];
const alice = await hs1.createUser('alice');
const bob = await hs2.createUser('bob');
process.stdout.write(`
Two homeservers are up. Users made for you:
  ${alice.user_id}  token ${alice.access_token}
  ${bob.user_id}  token ${bob.access_token}

Alice creates a public room on hs1; Bob (hs2) joins it over federation, then leaves:
  ROOM=$(curl -s -X POST ${hs1.csUrl}/_matrix/client/v3/createRoom -H "Authorization: Bearer ${alice.access_token}" -d '{"preset":"public_chat"}' | sed -E 's/.*"room_id":"([^"]+)".*/\\1/')
  curl -s -X POST "${hs2.csUrl}/_matrix/client/v3/join/$ROOM?server_name=${hs1.serverName}" -H "Authorization: Bearer ${bob.access_token}" -d '{}'
  curl -s -X POST "${hs2.csUrl}/_matrix/client/v3/rooms/$ROOM/leave" -H "Authorization: Bearer ${bob.access_token}" -d '{"reason":"bye"}'
  sleep 1   # the leave reaches hs1 in a federation transaction
  curl -s "${hs1.csUrl}/_matrix/client/v3/rooms/$ROOM/members" -H "Authorization: Bearer ${alice.access_token}"
Ctrl-C stops both.
`);
