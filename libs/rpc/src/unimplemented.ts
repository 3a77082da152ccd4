import { MatrixError } from '@membrane/matrix-errors';
import type { ServiceImplementation } from './server.js';
import type { ServiceDefinitionLike } from './service-types.js';

function notImplemented(path: string): MatrixError {
  return MatrixError.unrecognized(`${path} is not implemented`, 501);
}

/**
 * An implementation whose every method fails with 501 M_UNRECOGNIZED. Spread
 * it and override what a fake or a partial service needs:
 * `{ ...unimplemented(MembershipServiceService), queryMembership: async (request) => ... }`.
 */
export function unimplemented<S extends ServiceDefinitionLike>(service: S): ServiceImplementation<S> {
  const handlers: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(service)) {
    handlers[name] = definition.responseStream
      ? async function* failing() {
          throw notImplemented(definition.path);
        }
      : async () => {
          throw notImplemented(definition.path);
        };
  }
  return handlers as ServiceImplementation<S>;
}
