// What the gateway does with requests once SIGTERM arrived: requests already
// running finish (and their connections close after the answer); requests
// that arrive later are refused with 503 before any work is done, so a client
// never has to guess whether a refused request was applied.
import type { ServerResponse } from 'node:http';
import type { Request, Response, NextFunction } from 'express';

/** Probes and scrapes keep their own answers while draining (/readyz then says "not ready"). */
const ANSWERED_WHILE_STOPPING = new Set(['/healthz', '/readyz', '/metrics']);

export const SHUTTING_DOWN_BODY = { errcode: 'M_UNKNOWN', error: 'The server is shutting down; retry on another instance' } as const;

export class ShutdownGate {
  private stopping = false;
  private readonly inFlight = new Set<ServerResponse>();

  get isStopping(): boolean {
    return this.stopping;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Express middleware; mount it before any route. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (this.stopping && !ANSWERED_WHILE_STOPPING.has(req.path)) {
      res.set({ Connection: 'close', 'Retry-After': '1' }).status(503).json(SHUTTING_DOWN_BODY);
      return;
    }
    this.inFlight.add(res);
    res.once('close', () => this.inFlight.delete(res));
    next();
  };

  /** From now on new requests get 503; running ones finish on connections that then close. */
  begin(): void {
    this.stopping = true;
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
  }
}
