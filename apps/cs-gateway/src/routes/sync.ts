// /sync and the stored filters it reads. The membership service decides what
// the user sees and waits for something new (long-poll); the gateway reads
// the parameters, resolves the filter, and shapes the answer.
import { MatrixError, isMatrixError } from '@membrane/matrix-errors';
import { parseFilter } from '@membrane/views';
import type { Filter } from '@membrane/views';
import { optionalBooleanQuery, optionalEnumQuery, optionalIntegerQuery } from '../query-input.js';
import { optionalQueryValue, userIdParam } from '../request-input.js';
import { parseStreamToken } from '../stream-token.js';
import { syncResponseBody } from '../sync-response.js';
import type { EventFormat } from '../viewed-event.js';
import { authedRoute } from './route.js';
import type { AuthedContext, Route } from './route.js';

/** Longest long-poll a client gets; longer `timeout`s are shortened (clients simply sync again). */
const MAX_SYNC_TIMEOUT_MS = 60_000;

const PRESENCE_STATES = ['online', 'offline', 'unavailable'] as const;

/** A filter to apply: the JSON handed to the service and the parsed form for the event format. */
interface SyncFilter {
  readonly json: string;
  readonly filter: Filter;
}

/** An inline filter (`filter={...}`), checked here; anything else is the ID of a stored filter. */
type FilterParam = { readonly inline: SyncFilter } | { readonly storedId: string } | undefined;

function filterParam(value: string | undefined): FilterParam {
  if (value === undefined || value === '') return undefined;
  if (!value.startsWith('{')) return { storedId: value };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw MatrixError.notJson('Invalid filter JSON');
  }
  const filter = parseFilter(parsed);
  return { inline: { json: JSON.stringify(filter), filter } };
}

async function storedFilter(ctx: AuthedContext, filterId: string): Promise<SyncFilter> {
  try {
    const stored = await ctx.services.membership.queryFilter({ userId: ctx.user.userId, filterId }, ctx.rpc);
    return { json: stored.filterJson, filter: parseFilter(JSON.parse(stored.filterJson)) };
  } catch (err) {
    // As Synapse: an unknown filter ID is a bad parameter of /sync, not a missing resource.
    if (isMatrixError(err) && err.status === 404) throw MatrixError.invalidParam('No such filter');
    throw err;
  }
}

function eventFormatOf(filter: Filter | undefined): EventFormat | undefined {
  if (filter === undefined) return undefined;
  return {
    federation: filter.event_format === 'federation',
    ...(filter.event_fields === undefined ? {} : { fields: filter.event_fields }),
  };
}

/** Aborts when the client goes away before the answer, so the service stops waiting for it. */
function abortOnHangUp(ctx: AuthedContext): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const res = ctx.req.res;
  const onClose = (): void => {
    if (res !== undefined && !res.writableFinished) controller.abort(MatrixError.unknown('The client closed the connection'));
  };
  res?.on('close', onClose);
  return { signal: controller.signal, done: () => res?.off('close', onClose) };
}

function ownUser(ctx: AuthedContext, verb: 'create' | 'get'): string {
  const userId = userIdParam(ctx.params['userId'] ?? '');
  if (userId !== ctx.user.userId) throw MatrixError.forbidden(`Cannot ${verb} filters for other users`);
  return userId;
}

export function syncRoutes(): Route[] {
  return [
    authedRoute({
      method: 'GET',
      path: '/sync',
      parse: (ctx) => {
        // /events took `from`; a client sending it to /sync has a bug worth hearing about (as Synapse).
        if (ctx.query['from'] !== undefined) throw MatrixError.unknown("'from' is not a valid query parameter. Did you mean 'since'?");
        const since = optionalQueryValue(ctx.query, 'since');
        optionalEnumQuery(ctx.query, 'set_presence', PRESENCE_STATES); // accepted; presence is not served
        return {
          sincePosition: since === undefined || since === '' ? undefined : parseStreamToken(since, 'since'),
          timeoutMs: Math.min(optionalIntegerQuery(ctx.query, 'timeout') ?? 0, MAX_SYNC_TIMEOUT_MS),
          fullState: optionalBooleanQuery(ctx.query, 'full_state') ?? false,
          filter: filterParam(optionalQueryValue(ctx.query, 'filter')),
        };
      },
      async run(input, ctx) {
        const filter = input.filter === undefined ? undefined : 'inline' in input.filter ? input.filter.inline : await storedFilter(ctx, input.filter.storedId);
        const hangUp = abortOnHangUp(ctx);
        try {
          const answer = await ctx.services.membership.querySync(
            { userId: ctx.user.userId, sincePosition: input.sincePosition, timeoutMs: input.timeoutMs, fullState: input.fullState, filterJson: filter?.json ?? '' },
            // The service holds the call up to `timeout`; the usual deadline is the margin on top.
            { ...ctx.rpc, deadlineMs: input.timeoutMs + (ctx.rpc.deadlineMs ?? 10_000), signal: hangUp.signal },
          );
          const format = eventFormatOf(filter?.filter);
          return { body: syncResponseBody(answer, { now: Date.now(), ...(format === undefined ? {} : { format }) }) };
        } finally {
          hangUp.done();
        }
      },
    }),
    authedRoute({
      method: 'POST',
      path: '/user/:userId/filter',
      parse: (ctx) => ({ userId: ownUser(ctx, 'create'), filter: parseFilter(ctx.body) }),
      async run(input, ctx) {
        const stored = await ctx.services.membership.performPutFilter({ userId: input.userId, filterJson: JSON.stringify(input.filter) }, ctx.rpc);
        return { body: { filter_id: stored.filterId } };
      },
    }),
    authedRoute({
      method: 'GET',
      path: '/user/:userId/filter/:filterId',
      parse: (ctx) => ({ userId: ownUser(ctx, 'get'), filterId: ctx.params['filterId'] ?? '' }),
      async run(input, ctx) {
        const stored = await ctx.services.membership.queryFilter({ userId: input.userId, filterId: input.filterId }, ctx.rpc);
        return { body: JSON.parse(stored.filterJson) as unknown };
      },
    }),
  ];
}
