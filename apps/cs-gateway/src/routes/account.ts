// Accounts: password login and logout against the gateway's own user store
// (only when it issues tokens itself), and whoami for every verifier.
import { ErrCode, MatrixError } from '@membrane/matrix-errors';
import type { UserStore } from '@membrane/user-store';
import { isJsonObject, optionalString, requiredString } from '../request-input.js';
import type { JsonObject } from '../request-input.js';
import { EMPTY_REPLY, authedRoute, publicRoute } from './route.js';
import type { Route } from './route.js';

const PASSWORD_LOGIN = 'm.login.password';

interface LoginInput {
  readonly user: string;
  readonly password: string;
  readonly deviceId: string | undefined;
  readonly displayName: string | undefined;
}

/** The user named by `identifier: {type: m.id.user, user}` or by the older top-level `user`. */
function loginUser(body: JsonObject): string {
  const identifier = body['identifier'];
  if (identifier === undefined) return requiredString(body, 'user');
  if (!isJsonObject(identifier)) throw MatrixError.badJson('"identifier" must be an object');
  const type = requiredString(identifier, 'type');
  if (type !== 'm.id.user') throw new MatrixError(400, ErrCode.UNKNOWN, `Unknown login identifier type ${type}`);
  return requiredString(identifier, 'user');
}

function parseLogin(body: JsonObject): LoginInput {
  const type = requiredString(body, 'type');
  if (type !== PASSWORD_LOGIN) throw new MatrixError(400, ErrCode.UNKNOWN, `Unknown login type ${type}`);
  return {
    user: loginUser(body),
    password: requiredString(body, 'password'),
    deviceId: optionalString(body, 'device_id'),
    displayName: optionalString(body, 'initial_device_display_name'),
  };
}

function requireStore(accounts: UserStore | undefined): UserStore {
  if (accounts === undefined) throw new Error('account routes are mounted only with a user store');
  return accounts;
}

/** Login and logout exist only when this gateway issues its own tokens. */
export function loginRoutes(): Route[] {
  return [
    publicRoute({
      method: 'GET',
      path: '/login',
      run: async () => ({ body: { flows: [{ type: PASSWORD_LOGIN }] } }),
    }),
    publicRoute({
      method: 'POST',
      path: '/login',
      rateLimit: 'login',
      parse: (ctx) => parseLogin(ctx.body),
      async run(input, ctx) {
        const store = requireStore(ctx.services.accounts);
        const user = await store.checkPassword(input.user, input.password);
        if (user === undefined) throw MatrixError.forbidden('Invalid username or password');
        const issued = store.issueAccessToken(user.localpart, { deviceId: input.deviceId, displayName: input.displayName });
        return { body: { user_id: issued.userId, access_token: issued.accessToken, device_id: issued.deviceId, home_server: ctx.services.serverName } };
      },
    }),
    authedRoute({
      method: 'POST',
      path: '/logout',
      async run(_input, ctx) {
        if (ctx.user.deviceId !== undefined) requireStore(ctx.services.accounts).removeDevice(ctx.user.userId, ctx.user.deviceId);
        return EMPTY_REPLY;
      },
    }),
    authedRoute({
      method: 'POST',
      path: '/logout/all',
      async run(_input, ctx) {
        requireStore(ctx.services.accounts).removeAllDevices(ctx.user.userId);
        return EMPTY_REPLY;
      },
    }),
  ];
}

export function whoamiRoutes(): Route[] {
  return [
    authedRoute({
      method: 'GET',
      path: '/account/whoami',
      run: async (_input, ctx) => ({
        body: { user_id: ctx.user.userId, ...(ctx.user.deviceId === undefined ? {} : { device_id: ctx.user.deviceId }), is_guest: false },
      }),
    }),
  ];
}
