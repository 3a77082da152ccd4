// What a client asks first: which spec versions are served, what this server
// can do, its push rules, and (outside Matrix) whether the gateway is alive
// and ready.
import { authedRoute, publicRoute } from './route.js';
import type { Route } from './route.js';

/**
 * Spec versions whose shapes of the served endpoints we follow. `r0.6.1` is
 * the last r0 release, kept for clients that still look for it; v1.13 and
 * later are not claimed until their changes to these endpoints are reviewed.
 */
export const SPEC_VERSIONS = ['r0.6.1', ...Array.from({ length: 12 }, (_, i) => `v1.${i + 1}`)] as const;

export function discoveryRoutes(): Route[] {
  return [
    publicRoute({
      method: 'GET',
      path: '/versions',
      base: 'client-unversioned',
      run: async () => ({ body: { versions: [...SPEC_VERSIONS], unstable_features: {} } }),
    }),
    authedRoute({
      method: 'GET',
      path: '/capabilities',
      async run(_input, ctx) {
        // The membership service creates and joins rooms, so its answer is the truth about room versions and forgetting.
        const service = await ctx.services.membership.queryCapabilities({}, ctx.rpc);
        return {
          body: {
            capabilities: {
              'm.room_versions': {
                default: service.defaultRoomVersion,
                available: Object.fromEntries(service.supportedRoomVersions.map((v) => [v, 'stable'])),
              },
              'm.forget_forced_upon_leave': { enabled: service.forgetForcedUponLeave },
              // Account and profile changes are not served here; say so, since absent means "allowed".
              'm.change_password': { enabled: false },
              'm.set_displayname': { enabled: false },
              'm.set_avatar_url': { enabled: false },
              'm.3pid_changes': { enabled: false },
            },
          },
        };
      },
    }),
    // Push is not implemented: an empty rule set is a valid answer, and clients
    // (matrix-js-sdk's startClient waits for it) go on with their defaults.
    authedRoute({ method: 'GET', path: '/pushrules/', run: async () => ({ body: { global: emptyRuleset() } }) }),
    authedRoute({ method: 'GET', path: '/pushrules/global/', run: async () => ({ body: emptyRuleset() }) }),
  ];
}

function emptyRuleset(): Record<string, never[]> {
  return { override: [], content: [], room: [], sender: [], underride: [] };
}

export function healthRoutes(): Route[] {
  return [
    publicRoute({
      method: 'GET',
      path: '/healthz',
      base: 'root',
      run: async () => ({ body: { status: 'ok' } }),
    }),
    publicRoute({
      method: 'GET',
      path: '/readyz',
      base: 'root',
      async run(_input, ctx) {
        const ready = await ctx.services.isMembershipReady();
        return ready ? { body: { status: 'ready' } } : { status: 503, body: { status: 'not ready', reason: 'the membership service does not answer' } };
      },
    }),
  ];
}
