// How an endpoint is declared: method, path, whether it needs an access
// token, how its input is read and checked, which rate limit applies, and
// the thin call that does the work. The HTTP app runs these steps in order:
// authenticate → read body → parse → rate-limit → run.
import type { Request } from 'express';
import type { MembershipServiceService } from '@membrane/proto';
import type { RpcCallOptions, RpcClient } from '@membrane/rpc';
import type { UserStore } from '@membrane/user-store';
import type { JsonObject } from '../request-input.js';
import type { AuthenticatedUser } from '../token-verifier.js';

export type MembershipClient = RpcClient<typeof MembershipServiceService>;

/** Where a path lives: under `/_matrix/client/{v3,r0}`, `/_matrix/client`, or the root. */
export type RouteBase = 'client' | 'client-unversioned' | 'root';

/** `membership` is keyed by user ID, `login` by client address. */
export type RateLimitKind = 'membership' | 'login';

export interface Reply {
  readonly status?: number;
  readonly body: unknown;
}

export interface GatewayServices {
  readonly serverName: string;
  readonly membership: MembershipClient;
  /** The user store when this gateway issues tokens itself (auth.type "store"). */
  readonly accounts: UserStore | undefined;
  readonly defaultRoomVersion: string;
  readonly isMembershipReady: () => Promise<boolean>;
}

export interface RequestContext {
  readonly req: Request;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: JsonObject;
  readonly clientAddress: string;
  readonly services: GatewayServices;
  /** Options for calls to the membership service (request ID, deadline). */
  readonly rpc: RpcCallOptions;
}

export interface AuthedContext extends RequestContext {
  readonly user: AuthenticatedUser;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly base: RouteBase;
  readonly auth: boolean;
  /** Runs parse, rate limit and call; `limit` throws 429 when the bucket is empty. */
  handle(ctx: RequestContext & { readonly user?: AuthenticatedUser }, limit: (kind: RateLimitKind, key: string) => void): Promise<Reply>;
}

interface RouteDefinition<C, I> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly base?: RouteBase;
  readonly rateLimit?: RateLimitKind;
  /** Reads and checks the input; throws 400s. */
  readonly parse?: (ctx: C) => I;
  readonly run: (input: I, ctx: C) => Promise<Reply>;
}

/** An endpoint that needs an access token. */
export function authedRoute<I = undefined>(definition: RouteDefinition<AuthedContext, I>): Route {
  return {
    method: definition.method,
    path: definition.path,
    base: definition.base ?? 'client',
    auth: true,
    async handle(ctx, limit) {
      if (ctx.user === undefined) throw new Error(`${definition.path}: authentication did not run`);
      const authed: AuthedContext = { ...ctx, user: ctx.user };
      const input = definition.parse === undefined ? (undefined as I) : definition.parse(authed);
      if (definition.rateLimit !== undefined) limit(definition.rateLimit, definition.rateLimit === 'login' ? ctx.clientAddress : ctx.user.userId);
      return definition.run(input, authed);
    },
  };
}

/** An endpoint anyone may call. */
export function publicRoute<I = undefined>(definition: RouteDefinition<RequestContext, I>): Route {
  return {
    method: definition.method,
    path: definition.path,
    base: definition.base ?? 'client',
    auth: false,
    async handle(ctx, limit) {
      const input = definition.parse === undefined ? (undefined as I) : definition.parse(ctx);
      if (definition.rateLimit !== undefined) limit(definition.rateLimit, ctx.clientAddress);
      return definition.run(input, ctx);
    },
  };
}

export const EMPTY_REPLY: Reply = { body: {} };

