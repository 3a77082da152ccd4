// The few Client-Server calls the interop tests make against both servers,
// with a bounded wait for state that arrives over federation.

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One v3 Client-Server request; a non-JSON answer reads as `{}`. */
export async function cs(base: string, token: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, timeoutMs = 60_000): Promise<Answer> {
  const response = await fetch(`${base}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

/** Polls `read` (bounded) until `done` holds; returns the last answer. */
export async function eventually(read: () => Promise<Answer>, done: (a: Answer) => boolean, timeoutMs = 15_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await read();
  }
  return last;
}
