// Installs Synapse from the Python package index into a virtualenv that is
// kept between runs under node_modules/.cache (git-ignored), so only the
// first run pays for the download.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned release (PyPI `matrix-synapse`). */
export const SYNAPSE_VERSION = '1.163.2';

export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../../node_modules/.cache/membrane-synapse', import.meta.url));

export interface InstallOptions {
  readonly cacheDir?: string;
  readonly version?: string;
  /** Interpreter that creates the virtualenv; the first of PYTHON_CANDIDATES that can, by default. */
  readonly basePython?: string;
  readonly timeoutMs?: number;
}

export interface InstalledSynapse {
  /** The virtualenv's python, which runs `-m synapse.app.homeserver`. */
  readonly python: string;
  readonly version: string;
  /** False when the cached virtualenv already held this version. */
  readonly installed: boolean;
  readonly seconds: number;
}

/** Environment for Python children: no proxies (peers are on loopback), no user site. */
export function pythonEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONNOUSERSITE: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  for (const name of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }
  return env;
}

export function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: pythonEnvironment(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function installSynapse(options: InstallOptions = {}): Promise<InstalledSynapse> {
  const started = performance.now();
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const version = options.version ?? SYNAPSE_VERSION;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const venv = join(cacheDir, 'venv');
  const python = join(venv, 'bin', 'python');
  // Written only after pip succeeded, so an interrupted install is redone.
  const marker = join(cacheDir, `installed-${version}`);
  const seconds = (): number => (performance.now() - started) / 1000;

  const ready = (): boolean => existsSync(marker) && existsSync(python);
  if (ready()) return { python, version, installed: false, seconds: seconds() };

  mkdirSync(cacheDir, { recursive: true });
  // Test files run in parallel: one process installs, the others wait for it.
  const lock = join(cacheDir, 'install.lock');
  while (!tryLock(lock, timeoutMs)) {
    if (seconds() * 1000 > timeoutMs) throw new Error(`timed out waiting for another Synapse install (${lock})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    if (ready()) return { python, version, installed: false, seconds: seconds() };
    await createVirtualenv(options.basePython ?? (await findBasePython()), venv, python, version, timeoutMs);
    writeFileSync(marker, `${version}\n`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return { python, version, installed: true, seconds: seconds() };
}

/** `python3` on PATH first (pyenv's 3.11 here), then Debian's, which needs python3-venv. */
export const PYTHON_CANDIDATES: readonly string[] = ['python3', '/usr/bin/python3'];

// Synapse 1.163 needs Python 3.10 or later; a base without venv/ensurepip cannot make a virtualenv.
const CAN_MAKE_VENV = 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 10) else 1)';

async function findBasePython(): Promise<string> {
  const refusals: string[] = [];
  for (const candidate of PYTHON_CANDIDATES) {
    try {
      await run(candidate, ['-c', CAN_MAKE_VENV], 30_000);
      return candidate;
    } catch (error) {
      refusals.push((error as Error).message.split('\n')[0] ?? candidate);
    }
  }
  throw new Error(`no Python >= 3.10 with venv and ensurepip (Debian: apt-get install python3-venv): ${refusals.join('; ')}`);
}

/** Takes the lock directory, breaking one left behind longer ago than `staleMs`. */
function tryLock(lock: string, staleMs: number): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > staleMs) rmSync(lock, { recursive: true, force: true });
    } catch {
      // Released meanwhile; the next try takes it.
    }
    return false;
  }
}

async function createVirtualenv(basePython: string, venv: string, python: string, version: string, timeoutMs: number): Promise<void> {
  rmSync(venv, { recursive: true, force: true });
  await run(basePython, ['-m', 'venv', venv], timeoutMs);
  await run(python, ['-m', 'pip', 'install', '--quiet', `matrix-synapse==${version}`], timeoutMs);
  const reported = (await run(python, ['-c', 'import synapse; print(synapse.__version__)'], 60_000)).trim();
  if (!reported.startsWith(version)) throw new Error(`installed Synapse reports ${reported}, expected ${version}`);
}
