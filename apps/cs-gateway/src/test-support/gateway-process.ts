// The CS gateway as a real process for black-box tests, in front of a
// membership service on a scratch directory, with users made by the real
// admin CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, startMembershipService } from '@membrane/testing';
import type { AppProcess } from '@membrane/testing';
import { GatewayClient, createUserWithCli } from './gateway-client.js';
import type { CreatedUser } from './gateway-client.js';

/** A scratch directory with the membership service running on `<dir>/membership`. */
export interface ScratchMembership {
  readonly dir: string;
  /** The membership service's gRPC address. */
  readonly address: string;
  /** Stops the service and removes the directory. */
  stop(): Promise<void>;
}

export async function startScratchMembership(prefix: string, env: Readonly<Record<string, string>> = {}): Promise<ScratchMembership> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const membership = await startMembershipService(join(dir, 'membership'), env).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    dir,
    address: membership.address,
    async stop() {
      await membership.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The gateway as `hs.test` on a free loopback port, its user store in
 * `dataDir`, rate limits out of the way; `env` adds or overrides settings.
 */
export async function startGatewayProcess(dataDir: string, membershipAddress: string, env: Readonly<Record<string, string>> = {}): Promise<AppProcess & { readonly client: GatewayClient }> {
  const app = await startApp('cs-gateway', {
    readyMessage: 'cs gateway listening',
    env: {
      MEMBRANE_CS_DATA_DIR: dataDir,
      MEMBRANE_CS_SERVER_NAME: 'hs.test',
      MEMBRANE_CS_LISTEN__PORT: '0',
      MEMBRANE_CS_MEMBERSHIP__ADDRESS: membershipAddress,
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '1000',
      MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '1000',
      MEMBRANE_CS_RATE_LIMIT__LOGIN__PER_SECOND: '1000',
      MEMBRANE_CS_RATE_LIMIT__LOGIN__BURST: '1000',
      ...env,
    },
  });
  return { ...app, client: new GatewayClient(String(app.ready['url'])) };
}

/** One user per localpart in the gateway's store, each with the password `<localpart>-pw` (so a test can log in again). */
export async function createUsersWithCli(dataDir: string, localparts: readonly string[]): Promise<Record<string, CreatedUser>> {
  const create = (name: string): Promise<CreatedUser> => createUserWithCli(dataDir, name, ['--password', `${name}-pw`]);
  const users: Record<string, CreatedUser> = {};
  // The first call creates the store; the others may then run side by side.
  const [first, ...rest] = localparts;
  if (first !== undefined) users[first] = await create(first);
  const created = await Promise.all(rest.map(create));
  rest.forEach((name, i) => (users[name] = created[i] as CreatedUser));
  return users;
}
