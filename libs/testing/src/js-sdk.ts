// matrix-js-sdk clients for tests: what `createClient` takes to act as a user,
// with the SDK's own log kept out of the test output, and a fetch that records
// what the SDK asked for. Types only: the tests that use them load the SDK.
import type { ICreateClientOpts } from 'matrix-js-sdk';
import type { HomeserverUser } from './homeserver-stack.js';

type SdkLogger = NonNullable<ICreateClientOpts['logger']>;

/** Keeps the SDK's request log out of the test output. */
export const quietSdkLogger: SdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  getChild: () => quietSdkLogger,
};

/** The options of `createClient` for `user` (its token and device) on `baseUrl`, quiet, through `fetchFn` if given. */
export function sdkClientOptions(baseUrl: string, user: HomeserverUser, fetchFn?: typeof globalThis.fetch): ICreateClientOpts {
  return {
    baseUrl,
    userId: user.user_id,
    accessToken: user.access_token,
    deviceId: user.device_id,
    logger: quietSdkLogger,
    ...(fetchFn === undefined ? {} : { fetchFn }),
  };
}

/** One HTTP exchange an SDK made. */
export interface SdkExchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly errcode: string | undefined;
}

/** A fetch that appends every exchange to `exchanges`, so that a test sees what the SDK asked for. */
export function recordingFetch(exchanges: SdkExchange[]): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body = (await response.clone().json().catch(() => ({}))) as { errcode?: string };
    exchanges.push({ method: init?.method ?? 'GET', path: url.pathname, status: response.status, errcode: body.errcode });
    return response;
  };
}
