// SIGTERM under load loses no accepted request: concurrent leave/join
// requests run against the real gateway and membership service, the gateway
// gets SIGTERM mid-run, and afterwards the membership service (asked directly
// over gRPC) must reflect every request that was answered 200, while every
// later request was refused cleanly and changed nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { Membership, MembershipServiceClient } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import type { CreatedUser } from './test-support/gateway-client.js';
import { createUsersWithCli, startGatewayProcess, startScratchMembership } from './test-support/gateway-process.js';
import type { ScratchMembership } from './test-support/gateway-process.js';

const WORKERS = 8;
const MAX_REQUESTS_PER_WORKER = 400;
const SIGTERM_AFTER_SUCCESSES = 100;

type Action = 'leave' | 'join';

interface Outcome {
  readonly action: Action;
  /** HTTP status, or the socket error code when there was no answer. */
  readonly result: number | string;
  /** Sent after SIGTERM was sent. */
  readonly afterSigterm: boolean;
  /** Answered (or failed) after SIGTERM was sent. */
  readonly endedAfterSigterm: boolean;
}

let membership: ScratchMembership;

before(async () => {
  membership = await startScratchMembership('cs-gateway-shutdown-');
});

after(async () => {
  await membership?.stop();
});

/** One request on its own connection, so a refused connection means the request was never seen. */
function post(baseUrl: string, path: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  const url = new URL(baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'close' },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

function errorCodeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : String(err);
}

describe('cs-gateway SIGTERM under load', () => {
  it('loses no accepted request, exits 0, and refuses later requests cleanly', { timeout: 120_000 }, async (t) => {
    const dataDir = join(membership.dir, 'gateway');
    const workers = Array.from({ length: WORKERS }, (_, i) => `worker${i}`);
    const accounts = await createUsersWithCli(dataDir, ['alice', ...workers]);
    const alice = accounts['alice'] as CreatedUser;
    const users = workers.map((name) => accounts[name] as CreatedUser);
    const gateway = await startGatewayProcess(dataDir, membership.address, {
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '100000',
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '100000',
      MEMBRANE_CS_SHUTDOWN_GRACE_MS: '20000',
      // Long enough that every worker meets the 503 before the port closes.
      MEMBRANE_CS_SHUTDOWN_DRAIN_DELAY_MS: '1000',
    });
    const base = gateway.client.baseUrl;
    const created = await post(base, '/_matrix/client/v3/createRoom', alice.access_token, { preset: 'public_chat' });
    assert.equal(created.status, 200, created.text);
    const roomId = (JSON.parse(created.text) as { room_id: string }).room_id;
    const roomPath = (action: Action): string => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/${action}`;
    for (const user of users) assert.equal((await post(base, roomPath('join'), user.access_token, {})).status, 200);

    let sigtermSent = false;
    let successes = 0;
    let exitCode: Promise<number | null> | undefined;
    const outcomes = new Map<string, Outcome[]>();

    // Each worker changes only its own user's membership, one request at a
    // time, and stops at its first request that was not answered 200.
    const worker = async (user: CreatedUser): Promise<void> => {
      const mine: Outcome[] = [];
      outcomes.set(user.user_id, mine);
      for (let i = 0; i < MAX_REQUESTS_PER_WORKER; i++) {
        const action: Action = i % 2 === 0 ? 'leave' : 'join';
        const afterSigterm = sigtermSent;
        let result: number | string;
        try {
          result = (await post(base, roomPath(action), user.access_token, {})).status;
        } catch (err) {
          result = errorCodeOf(err);
        }
        mine.push({ action, result, afterSigterm, endedAfterSigterm: sigtermSent });
        if (result !== 200) return;
        successes += 1;
        if (successes === SIGTERM_AFTER_SUCCESSES) {
          sigtermSent = true;
          exitCode = gateway.stop(30_000);
        }
      }
    };
    await Promise.all(users.map(worker));

    assert.ok(sigtermSent, 'the load lasted until SIGTERM');
    assert.equal(await exitCode, 0, 'the gateway exits 0 after draining');
    const all = [...outcomes.values()].flat();
    const refused = all.filter((o) => o.result !== 200);
    for (const outcome of refused) assert.ok(outcome.result === 'ECONNREFUSED' || outcome.result === 503, `refused cleanly, not ${String(outcome.result)}`);
    assert.equal(refused.length, WORKERS, 'every worker ran until the gateway refused it');
    assert.ok(refused.every((o) => o.afterSigterm || o.result === 503), 'nothing was refused before SIGTERM');
    assert.ok(refused.some((o) => o.result === 503), 'during the drain delay new requests get 503');
    const drained = all.filter((o) => !o.afterSigterm && o.endedAfterSigterm && o.result === 200).length;
    assert.ok(drained >= 1, 'requests running at SIGTERM were answered 200');
    t.diagnostic(`${all.length} requests: ${all.filter((o) => o.result === 200).length} answered 200 (${drained} of them running at SIGTERM), ${refused.length} refused`);

    const after = await post(base, roomPath('leave'), users[0]?.access_token ?? '', {}).then(
      (answer) => answer.status,
      (err: unknown) => errorCodeOf(err),
    );
    assert.equal(after, 'ECONNREFUSED', 'nothing listens after the exit');

    const service = createRpcClient(MembershipServiceClient, membership.address, { defaultDeadlineMs: 10_000 });
    try {
      for (const user of users) {
        const accepted = (outcomes.get(user.user_id) ?? []).filter((o) => o.result === 200);
        const last = accepted.at(-1);
        const expected = last === undefined || last.action === 'join' ? Membership.JOIN : Membership.LEAVE;
        const state = await service.queryMembership({ roomId, userId: user.user_id });
        assert.equal(state.membership, expected, `${user.user_id}: ${accepted.length} accepted, the last was ${last?.action ?? 'none'}`);
      }
    } finally {
      service.close();
    }
  });
});
