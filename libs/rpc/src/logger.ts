// The logger the RPC helpers write to. Its shape is the subset of pino's API
// that they use, so a pino logger can be passed as is.

export interface RpcLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

function describe(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

function line(level: string, fields: Record<string, unknown>, message: string): string {
  const entries = Object.entries(fields).map(([key, value]) => [key, describe(value)]);
  return JSON.stringify({ level, time: Date.now(), msg: message, ...Object.fromEntries(entries) });
}

/** Used when no logger is injected: one JSON line per entry on stderr. */
export const stderrLogger: RpcLogger = {
  error: (fields, message) => console.error(line('error', fields, message)),
  warn: (fields, message) => console.error(line('warn', fields, message)),
};
