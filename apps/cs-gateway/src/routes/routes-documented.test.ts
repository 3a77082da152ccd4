// The route table and docs/openapi/cs-gateway.yaml describe the same
// surface: every served method and path is documented, under every prefix
// it is served on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayRoutes } from '../app.js';
import { openApi } from '../test-support/gateway-client.js';

const PREFIXES = { client: ['/_matrix/client/v3', '/_matrix/client/r0'], 'client-unversioned': ['/_matrix/client'], root: [''] } as const;

describe('the route table', () => {
  it('is documented in the OpenAPI document, method by method', () => {
    const undocumented: string[] = [];
    for (const route of gatewayRoutes(true)) {
      for (const prefix of PREFIXES[route.base]) {
        // A sample path: each `:param` becomes a value that matches `{param}`.
        const path = prefix + route.path.replace(/:[A-Za-z]+/g, (param) => (param === ':userId' ? '@u:hs' : param === ':roomId' ? '!r:hs' : 'x'));
        if (openApi.findOperation(route.method, path) === undefined) undocumented.push(`${route.method} ${prefix}${route.path}`);
      }
    }
    assert.deepEqual(undocumented, []);
  });
});
