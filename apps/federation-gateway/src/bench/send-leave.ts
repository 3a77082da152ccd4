// Authenticated send_leave v2 throughput over real HTTPS: a membership
// service and a federation gateway as processes, one fake remote server
// sending signed leaves (X-Matrix and event signatures checked for each)
// with a fixed number of requests in flight over keep-alive connections.
// Everything is prepared before the clock starts (joins, templates, signed
// events and X-Matrix headers), so only the gateway and the membership
// service are measured. Prints one JSON line per figure:
//   node --import tsx apps/federation-gateway/src/bench/send-leave.ts [--smoke]
import type { JsonObject } from '@membrane/canonical-json';
import { Membership } from '@membrane/proto';
import { signRequest } from '@membrane/signing';
import { percentile, runWithConcurrency, throughputOf } from '@membrane/testing';
import { path, startFixture } from '../test-support/fixture.js';

const SMOKE = process.argv.includes('--smoke');
const ROOMS = SMOKE ? 2 : 10;
const USERS_PER_ROOM = SMOKE ? 10 : 100;
const CONCURRENCY = 16;

async function main(): Promise<void> {
  const f = await startFixture();
  try {
    const remote = await f.newRemote({ keepAlive: true });
    const leaves: { path: string; body: JsonObject; authorization: string; roomId: string; userId: string }[] = [];
    for (let r = 0; r < ROOMS; r++) {
      const { roomId, version } = await f.createRoom();
      const users = Array.from({ length: USERS_PER_ROOM }, (_, i) => remote.userId(`r${r}u${i}`));
      for (const userId of users) await f.join(roomId, version, userId, remote);
      for (const userId of users) {
        const leave = await f.leaveEvent(roomId, version, userId, remote);
        const target = path('v2/send_leave', roomId, leave.eventId);
        const body = leave.event as unknown as JsonObject;
        const authorization = signRequest({ method: 'PUT', uri: target, origin: remote.serverName, destination: f.peer.serverName, content: body }, remote.key);
        leaves.push({ path: target, body, authorization, roomId, userId });
      }
    }
    // Interleave rooms, as independent peers would.
    leaves.sort((a, b) => a.userId.localeCompare(b.userId));
    let failures = 0;
    const run = await runWithConcurrency(
      leaves.map((leave) => async () => {
        const answer = await f.call({ method: 'PUT', path: leave.path, body: leave.body, authorization: leave.authorization }, remote);
        if (answer.status !== 200) failures += 1;
      }),
      CONCURRENCY,
    );
    const sample = leaves[leaves.length - 1];
    if (sample !== undefined && (await f.membership(sample.roomId, sample.userId)).membership !== Membership.LEAVE) failures += 1;
    process.stdout.write(
      `${JSON.stringify({
        id: 'send-leave.v2',
        group: 'federation-gateway',
        name: 'send_leave v2, authenticated, HTTPS keep-alive',
        opsPerSecond: throughputOf(run),
        count: run.latenciesMs.length,
        seconds: run.elapsedMs / 1000,
        p50Ms: percentile(run.latenciesMs, 0.5),
        p99Ms: percentile(run.latenciesMs, 0.99),
        failures,
        detail: `${leaves.length} leaves in ${ROOMS} rooms of ${USERS_PER_ROOM + 1} members, ${CONCURRENCY} in flight, signed and prepared before the clock starts`,
      })}\n`,
    );
  } finally {
    await f.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
