// Graceful close of an HTTP(S) server, shared by the gateways: stop
// listening, let requests in flight finish within a grace period, then cut
// the connections that are still open so shutdown never hangs.
import type { Server } from 'node:http';

/** `drained` when every request finished in time; `cut-off` when connections had to be closed. */
export type CloseOutcome = 'drained' | 'cut-off';

export async function closeHttpServer(server: Server, graceMs: number): Promise<CloseOutcome> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  try {
    if ((await Promise.race([closed, expired])) !== 'expired') return 'drained';
    server.closeAllConnections();
    await closed;
    return 'cut-off';
  } finally {
    clearTimeout(timer);
  }
}
