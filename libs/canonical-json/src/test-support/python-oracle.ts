// Runs Debian's python3-canonicaljson (1.6.2) over a batch of inputs in one
// Python process. Inputs go in as ASCII-only JSON lines (so no transport
// layer can alter non-ASCII or line separators): "v <json>" is a value,
// "t <json string>" a JSON text for Python's own json.loads to parse. Each
// answer line is the base64 of encode_canonical_json(value), or
// "error <ExceptionName>".
//
// The Debian packages load only under /usr/bin/python3, not the first
// python3 on PATH.

import { spawnSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';

const ORACLE = String.raw`
import base64, json, sys
import canonicaljson

out = []
for line in sys.stdin:
    try:
        value = json.loads(line[2:])
        if line.startswith("t "):
            value = json.loads(value)
        out.append("ok " + base64.b64encode(canonicaljson.encode_canonical_json(value)).decode("ascii"))
    except Exception as error:
        out.append("error " + type(error).__name__)
sys.stdout.write("\n".join(out) + "\n")
`;

export type OracleAnswer = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly error: string };

/** JSON text with every non-ASCII code unit escaped as \uXXXX (lone surrogates included). */
export function toAsciiJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value has no JSON text');
  return text.replace(/[\u007f-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What to send: a value, or a JSON text that Python parses itself. */
export type OracleInput = { readonly value: unknown } | { readonly text: string };

/** Encodes every value with python3-canonicaljson; throws if Python is missing or fails. */
export function pythonCanonicalJson(values: readonly unknown[], timeoutMs = 60_000): OracleAnswer[] {
  return runPythonCanonicalJson(values.map((value) => ({ value })), timeoutMs);
}

/** Like pythonCanonicalJson, for a mix of values and texts. */
export function runPythonCanonicalJson(inputs: readonly OracleInput[], timeoutMs = 60_000): OracleAnswer[] {
  const input = inputs.map((item) => ('text' in item ? `t ${toAsciiJson(item.text)}\n` : `v ${toAsciiJson(item.value)}\n`)).join('');
  const result = spawnSync(PYTHON, ['-c', ORACLE], { input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  if (result.error !== undefined) throw new Error(`cannot run ${PYTHON}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${PYTHON} failed (status ${result.status}): ${result.stderr}`);
  const lines = result.stdout.split('\n').slice(0, -1);
  if (lines.length !== inputs.length) throw new Error(`expected ${inputs.length} answers from Python, got ${lines.length}`);
  return lines.map((line): OracleAnswer => {
    if (line.startsWith('ok ')) return { ok: true, bytes: new Uint8Array(Buffer.from(line.slice(3), 'base64')) };
    return { ok: false, error: line.slice('error '.length) };
  });
}
