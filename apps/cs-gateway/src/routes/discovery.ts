// What a client asks first: which spec versions are served, what this server
// can do, and (outside Matrix) whether the gateway is alive and ready.
import { SUPPORTED_ROOM_VERSIONS } from '@membrane/events';
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
      run: async (_input, ctx) => ({
        body: {
          capabilities: {
            'm.room_versions': {
              default: ctx.services.defaultRoomVersion,
              available: Object.fromEntries(SUPPORTED_ROOM_VERSIONS.map((v) => [v, 'stable'])),
            },
            // Account and profile changes are not served here; say so, since absent means "allowed".
            'm.change_password': { enabled: false },
            'm.set_displayname': { enabled: false },
            'm.set_avatar_url': { enabled: false },
            'm.3pid_changes': { enabled: false },
          },
        },
      }),
    }),
  ];
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
