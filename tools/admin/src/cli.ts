// The admin commands of the CS gateway's user store. There is no open
// registration: operators create users here and hand out the printed token.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UserStore, UserStoreError, defaultUserStorePath } from '@membrane/user-store';
import type { UserRecord } from '@membrane/user-store';

export const USAGE = `Usage: admin <command> [options]

Commands:
  create-user <localpart>   create a user and print its user ID and an access token
  issue-token <localpart>   print a new access token (new device) for an existing user
  list-users                list the users of the store

Options:
  --password X        (create-user) let the user log in with this password
  --device-id ID      (create-user, issue-token) the device the token belongs to
  --data-dir D        the gateway's data directory (default: $MEMBRANE_CS_DATA_DIR or .data)
  --db FILE           the user store itself (default: <data-dir>/users.sqlite)
  --server-name S     server name of a new store (default: $MEMBRANE_CS_SERVER_NAME or
                      localhost:8448); must match an existing store's
  --json              print JSON on stdout
  -h, --help          show this help

Exit codes: 0 done, 1 refused (e.g. the user exists), 2 bad usage.
`;

export interface AdminIo {
  readonly env: NodeJS.ProcessEnv;
  write(text: string): void;
  error(text: string): void;
}

const OPTIONS = {
  password: { type: 'string' },
  'device-id': { type: 'string' },
  'data-dir': { type: 'string' },
  db: { type: 'string' },
  'server-name': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_SERVER_NAME = 'localhost:8448';

class UsageError extends Error {}
class RefusedError extends Error {}

/** Runs one admin command; returns the process exit code. */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.write(USAGE);
    return 0;
  }
  try {
    const [command, ...rest] = positionals;
    const path = values.db ?? defaultUserStorePath(values['data-dir'] ?? io.env['MEMBRANE_CS_DATA_DIR'] ?? '.data');
    const serverName = values['server-name'] ?? io.env['MEMBRANE_CS_SERVER_NAME'];
    // A new store takes the default name; an existing one keeps its own.
    const open = (): UserStore => UserStore.open({ path, serverName: serverName ?? (existsSync(path) ? undefined : DEFAULT_SERVER_NAME) });
    const openExisting = (): UserStore => {
      if (!existsSync(path)) throw new RefusedError(`There is no user store at ${path}`);
      return UserStore.open({ path, serverName });
    };
    const json = values.json === true;
    switch (command) {
      case 'create-user': {
        const localpart = single(rest, 'create-user needs exactly one <localpart>');
        return await withStore(open, async (store) => {
          const user = await store.createUser(localpart, { password: values.password });
          const token = store.issueAccessToken(user.localpart, { deviceId: values['device-id'] });
          io.write(formatToken(token.userId, token.accessToken, token.deviceId, json));
          return 0;
        });
      }
      case 'issue-token': {
        const localpart = single(rest, 'issue-token needs exactly one <localpart>');
        return await withStore(openExisting, (store) => {
          const token = store.issueAccessToken(localpart, { deviceId: values['device-id'] });
          io.write(formatToken(token.userId, token.accessToken, token.deviceId, json));
          return Promise.resolve(0);
        });
      }
      case 'list-users':
        if (rest.length > 0) throw new UsageError('list-users takes no arguments');
        return await withStore(openExisting, (store) => {
          io.write(formatUsers(store.listUsers(), json));
          return Promise.resolve(0);
        });
      default:
        throw new UsageError(command === undefined ? 'a command is required' : `unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.error(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof UserStoreError || err instanceof RefusedError) {
      io.error(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function withStore(open: () => UserStore, run: (store: UserStore) => Promise<number>): Promise<number> {
  const store = open();
  try {
    return await run(store);
  } finally {
    store.close();
  }
}

function single(args: readonly string[], message: string): string {
  const [first, ...more] = args;
  if (first === undefined || more.length > 0) throw new UsageError(message);
  return first;
}

function formatToken(userId: string, accessToken: string, deviceId: string, json: boolean): string {
  if (json) return `${JSON.stringify({ user_id: userId, access_token: accessToken, device_id: deviceId })}\n`;
  return `user_id: ${userId}\naccess_token: ${accessToken}\ndevice_id: ${deviceId}\n`;
}

function formatUsers(users: readonly UserRecord[], json: boolean): string {
  if (json) {
    return `${JSON.stringify(users.map((u) => ({ user_id: u.userId, created_ts: u.createdTs, has_password: u.hasPassword })))}\n`;
  }
  return users.map((u) => `${u.userId}\t${new Date(u.createdTs).toISOString()}\t${u.hasPassword ? 'password' : 'token only'}\n`).join('');
}
