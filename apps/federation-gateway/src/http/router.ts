// Routing of federation requests by method and path template. Path
// parameters are matched on the raw (percent-encoded) path, then decoded, so
// an encoded '/' inside a room or event ID stays inside its parameter.
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonObject } from '@membrane/canonical-json';
import { MatrixError } from '@membrane/matrix-errors';

export type HttpMethod = 'GET' | 'PUT' | 'POST';

export interface FederationRequest {
  readonly method: string;
  /** The request target exactly as received (what X-Matrix signs). */
  readonly uri: string;
  readonly query: URLSearchParams;
  /** Decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON object body of PUT/POST requests. */
  readonly body: JsonObject | undefined;
  /** The body text as received (re-parsed strictly where a room version demands it). */
  readonly bodyText: string | undefined;
}

export interface AuthenticatedRequest extends FederationRequest {
  /** The sending server, proven by X-Matrix. */
  readonly origin: string;
}

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export type Route =
  | { readonly method: HttpMethod; readonly path: string; readonly auth: 'none'; handle(request: FederationRequest): Promise<Reply> }
  | { readonly method: HttpMethod; readonly path: string; readonly auth: 'x-matrix'; handle(request: AuthenticatedRequest): Promise<Reply> };

interface CompiledRoute {
  readonly route: Route;
  /** Literal segments as strings, parameters as `{name}` objects. */
  readonly segments: readonly (string | { readonly name: string })[];
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

function compile(route: Route): CompiledRoute {
  const segments = route.path.split('/').map((segment) => {
    const param = /^\{(\w+)\}$/.exec(segment);
    return param === null ? segment : { name: param[1] as string };
  });
  return { route, segments };
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw MatrixError.invalidParam('The path has malformed percent-encoding');
  }
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map(compile);
  }

  /**
   * The route for a method and raw path. Unknown paths are 404 and known
   * paths with another method 405, both `M_UNRECOGNIZED`, which tells a peer
   * that an endpoint version is not served here.
   */
  match(method: string, rawPath: string): RouteMatch {
    const parts = rawPath.split('/');
    let pathKnown = false;
    for (const { route, segments } of this.#routes) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const matches = segments.every((segment, index) => {
        const part = parts[index] as string;
        if (typeof segment === 'string') return segment === part;
        if (part === '') return false;
        params[segment.name] = part;
        return true;
      });
      if (!matches) continue;
      pathKnown = true;
      if (route.method !== method) continue;
      for (const name of Object.keys(params)) params[name] = decodeSegment(params[name] as string);
      return { route, params };
    }
    if (pathKnown) throw MatrixError.unrecognized('Unrecognized request', 405);
    throw MatrixError.unrecognized('Unrecognized request', 404);
  }
}
