// deploy/Dockerfile without a Docker engine: hadolint and our own rules
// read it; the ignore file is applied as BuildKit applies it; and the image's
// /app is assembled here the way the build stage assembles it (the files the
// COPY steps and the ignore file let in, node_modules pruned by the same
// script), then the apps are started from it through the image's entry point.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { checkDockerfilePolicy, contextCopies, envOf, isPinnedImage, parseDockerfile, stagesOf } from './dockerfile.js';
import { isIgnored, parseDockerignore } from './dockerignore.js';
import { REPO_ROOT, ensureDeployTools, run } from './tools.js';
import type { DeployTools } from './tools.js';

const DOCKERFILE = join(REPO_ROOT, 'deploy/Dockerfile');
const dockerfileText = readFileSync(DOCKERFILE, 'utf8');
const ignorePatterns = parseDockerignore(readFileSync(join(REPO_ROOT, 'deploy/Dockerfile.dockerignore'), 'utf8'));
const stages = stagesOf(parseDockerfile(dockerfileText));

let tools: DeployTools;
let scratch = '';

before(() => {
  tools = ensureDeployTools();
  scratch = mkdtempSync(join(tmpdir(), 'deploy-image-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/Dockerfile, read statically', () => {
  it('passes hadolint at its strictest threshold', () => {
    const { status, stdout, stderr } = run(tools.hadolint, ['--no-color', '--failure-threshold', 'style', DOCKERFILE]);
    assert.equal(status, 0, `${stdout}${stderr}`);
  });

  it('follows our rules: pinned base, numeric non-root user, no remote ADD, exec-form entry point', () => {
    assert.deepEqual(checkDockerfilePolicy(dockerfileText), []);
  });

  it('builds on Debian bookworm node 20, runs as uid 1000 and exposes the apps\' ports', () => {
    const final = stages.at(-1);
    assert.ok(final);
    assert.match(final.image, /^node:20\.\d+\.\d+-bookworm-slim$/);
    const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1);
    assert.equal(user?.args, '1000:1000');
    const exposed = final.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    assert.deepEqual(exposed.sort(), ['50051', '50052', '8008', '8448']);
    assert.equal(envOf(final).get('MEMBRANE_FED_GRPC__LISTEN'), '0.0.0.0:50052');
    assert.equal(envOf(final).get('MEMBRANE_MEMBERSHIP_GRPC__LISTEN'), '0.0.0.0:50051');
  });

  it('compiles better-sqlite3 from source against the local node headers in the build stage only', () => {
    const build = stages.find((s) => s.name === 'build');
    assert.ok(build);
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    assert.match(runs, /apt-get install[^\n]*python3[^\n]*make[^\n]*g\+\+/);
    assert.match(runs, /npm_config_nodedir=/);
    assert.match(runs, /npm ci/);
    assert.equal(envOf(build).get('npm_config_build_from_source'), 'true');
    assert.match(runs, /prune-dev-deps\.mjs --root \/app --keep tsx/);
    const final = stages.at(-1);
    assert.ok(final && !final.instructions.some((i) => i.keyword === 'RUN' && /apt-get|npm /.test(i.args)));
  });

  it('has every file its COPY steps read in the repository, and not left out by the ignore file', () => {
    const sources = stages.flatMap(contextCopies).flatMap((c) => c.sources).filter((s) => s !== '.');
    assert.ok(sources.length >= 5);
    for (const source of sources) {
      assert.ok(existsSync(join(REPO_ROOT, source)), `${source} is missing`);
      assert.equal(isIgnored(source, ignorePatterns), false, `${source} is ignored`);
    }
  });
});

describe('our Dockerfile rules', () => {
  const base = 'FROM node:20.20.2-bookworm-slim AS build\nRUN true\nFROM build\nUSER 1000\nENTRYPOINT ["node"]\n';

  it('accept a pinned tag, a digest and a reference to an earlier stage', () => {
    assert.deepEqual(checkDockerfilePolicy(base), []);
    assert.equal(isPinnedImage(`node@sha256:${'a'.repeat(64)}`), true);
    assert.deepEqual(checkDockerfilePolicy('ARG IMG=node:20.1.0\nFROM ${IMG}\nUSER 10\nENTRYPOINT ["x"]\n'), []);
  });

  it('refuse latest and untagged bases, a remote ADD, a missing, named or root USER, and a shell-form entry point', () => {
    const problems = (text: string): string => checkDockerfilePolicy(text).join('\n');
    assert.match(problems(base.replace('node:20.20.2-bookworm-slim', 'node:latest')), /pin the base image/);
    assert.match(problems(base.replace('node:20.20.2-bookworm-slim', 'node')), /pin the base image/);
    assert.match(problems(`${base}ADD https://example.org/x.tgz /x\n`), /ADD of a remote source/);
    assert.match(problems(base.replace('USER 1000\n', '')), /runs as root/);
    assert.match(problems(base.replace('USER 1000', 'USER node')), /numeric uid/);
    assert.match(problems(base.replace('USER 1000', 'USER 0:0')), /must not run as root/);
    assert.match(problems(base.replace('ENTRYPOINT ["node"]', 'ENTRYPOINT node main.js')), /shell form/);
  });

  it('are not alone: hadolint refuses a latest base and unpinned apt packages', () => {
    const file = join(scratch, 'Bad.Dockerfile');
    writeFileSync(file, 'FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n');
    const { status, stdout } = run(tools.hadolint, ['--no-color', file]);
    assert.notEqual(status, 0);
    assert.match(stdout, /DL3007/);
    assert.match(stdout, /DL3008/);
  });
});

describe('deploy/Dockerfile.dockerignore, as BuildKit reads it', () => {
  it('lets in the sources, manifests and the entry point', () => {
    for (const path of ['package.json', 'package-lock.json', 'apps/membership-service/src/main.ts', 'libs/events/src/index.ts', 'tools/admin/src/main.ts', 'deploy/docker-entrypoint.sh']) {
      assert.equal(isIgnored(path, ignorePatterns), false, path);
    }
  });

  it('leaves out tests, node_modules, local data, other tools and the rest of deploy/', () => {
    for (const path of ['apps/cs-gateway/src/x.test.ts', 'node_modules/tsx/package.json', 'libs/events/node_modules/a.js', '.data/signing.key', 'apps/membership-service/.data/x', 'tools/bench/src/main.ts', 'deploy/k8s/base/kustomization.yaml', '.git/config', 'README.md', 'libs/events/src/test-support/fixtures.ts']) {
      assert.equal(isIgnored(path, ignorePatterns), true, path);
    }
  });

  it('applies the last matching pattern, with ! letting a path back in and ** spanning directories', () => {
    const patterns = parseDockerignore('# comment\n*\n!src/\nsrc/**/*.tmp\n!src/keep.tmp\n');
    assert.equal(isIgnored('other.txt', patterns), true);
    assert.equal(isIgnored('src/a/b.ts', patterns), false);
    assert.equal(isIgnored('src/a/b.tmp', patterns), true);
    assert.equal(isIgnored('src/x.tmp', patterns), true);
    assert.equal(isIgnored('src/keep.tmp', patterns), false);
  });
});

// --- the image's /app, assembled here -------------------------------------

function filesUnder(root: string, relativePath: string): string[] {
  const full = join(root, relativePath);
  if (!statSync(full).isDirectory()) return [relativePath];
  return readdirSync(full).flatMap((name) => filesUnder(root, posix.join(relativePath, name)));
}

/** Copies what a COPY of `source` (relative to the context) to `dest` (relative to /app) would put there. */
function copyFromContext(app: string, source: string, dest: string): number {
  const isDir = statSync(join(REPO_ROOT, source)).isDirectory();
  let copied = 0;
  for (const file of filesUnder(REPO_ROOT, source)) {
    if (isIgnored(file, ignorePatterns)) continue;
    const inside = isDir ? posix.relative(source, file) : posix.basename(file);
    const target = join(app, dest, inside);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(REPO_ROOT, file), target);
    copied += 1;
  }
  return copied;
}

/** node_modules as `npm ci` leaves it, hard-linked from the checkout (no copy of its bytes). */
function linkNodeModules(app: string): void {
  const from = join(REPO_ROOT, 'node_modules');
  mkdirSync(join(app, 'node_modules'));
  for (const entry of readdirSync(from)) {
    if (entry === '.cache') continue;
    let result = spawnSync('cp', ['-al', join(from, entry), join(app, 'node_modules', entry)]);
    if (result.status !== 0) result = spawnSync('cp', ['-a', join(from, entry), join(app, 'node_modules', entry)]);
    assert.equal(result.status, 0, String(result.stderr));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** grpc.health.v1.Health/Check for the whole server (service ""), as the kubelet's gRPC probe sends it. */
async function healthCheck(address: string): Promise<number[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        { deadline: Date.now() + 2_000 },
        (err, value) => (err !== null || value === undefined ? reject(err ?? new Error('no answer')) : resolve([...value])),
      );
    });
  } finally {
    client.close();
  }
}

describe('the image, assembled without Docker', () => {
  let app = '';
  let env: NodeJS.ProcessEnv = {};
  const entrypoint = join(REPO_ROOT, 'deploy/docker-entrypoint.sh');

  before(() => {
    app = join(scratch, 'app');
    mkdirSync(app);
    // The manifests stage: every package.json and the lockfile.
    for (const file of ['package.json', 'package-lock.json']) copyFromContext(app, file, '.');
    linkNodeModules(app);
    const build = stages.find((s) => s.name === 'build');
    assert.ok(build);
    for (const { sources, dest } of contextCopies(build)) {
      const target = posix.resolve('/app', dest);
      if (target !== '/app' && !target.startsWith('/app/')) continue; // helper scripts copied to /tmp
      for (const source of sources) copyFromContext(app, source, posix.relative('/app', target));
    }
    const pruned = run(process.execPath, [join(REPO_ROOT, 'deploy/prune-dev-deps.mjs'), '--root', app, '--keep', 'tsx']);
    assert.equal(pruned.status, 0, pruned.stderr);
    const final = stages.at(-1);
    assert.ok(final);
    env = { PATH: process.env['PATH'], HOME: scratch, TMPDIR: scratch, ...Object.fromEntries(envOf(final)), MEMBRANE_HOME: app };
  });

  it('keeps tsx, esbuild and the production dependencies, and drops the build and lint tools', () => {
    for (const kept of ['tsx', 'esbuild', 'better-sqlite3', '@grpc/grpc-js', 'pg', 'zod']) assert.ok(existsSync(join(app, 'node_modules', kept)), kept);
    for (const dropped of ['typescript', 'nx', 'eslint', '@bufbuild/buf', 'fast-check']) assert.equal(existsSync(join(app, 'node_modules', dropped)), false, dropped);
    assert.deepEqual(filesUnder(app, 'apps').filter((f) => f.endsWith('.test.ts')), []);
  });

  it('starts each app that exists by name through the entry point', () => {
    const present = ['membership-service', 'cs-gateway', 'federation-gateway'].filter((a) => existsSync(join(app, 'apps', a, 'src/main.ts')));
    assert.ok(present.includes('membership-service'));
    for (const name of present) {
      const { status, stdout, stderr } = run('sh', [entrypoint, name, '--help'], { env, timeoutMs: 60_000 });
      assert.equal(status, 0, `${name}: ${stderr}`);
      assert.match(stdout, new RegExp(`Usage: ${name}`));
    }
    const unknown = run('sh', [entrypoint], { env: { ...env, APP: 'nope' } });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown app 'nope'/);
  });

  it('runs the admin tool against a real SQLite user store (the native addon survives pruning)', () => {
    const { status, stdout, stderr } = run('sh', [entrypoint, 'admin', 'create-user', 'alice', '--data-dir', join(scratch, 'cs-data'), '--server-name', 'example.org'], { env, timeoutMs: 60_000 });
    assert.equal(status, 0, stderr);
    assert.match(stdout, /@alice:example\.org/);
  });

  it('serves the membership service with the image environment, SERVING on the gRPC probe, and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const child = spawn('sh', [entrypoint], {
      env: { ...env, MEMBRANE_MEMBERSHIP_GRPC__LISTEN: address, MEMBRANE_MEMBERSHIP_DATA_DIR: join(scratch, 'ms-data'), MEMBRANE_MEMBERSHIP_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let status: number[] | undefined;
      const deadline = Date.now() + 60_000;
      while (status === undefined && Date.now() < deadline && child.exitCode === null) {
        status = await healthCheck(address).catch(() => undefined);
        if (status === undefined || status[1] !== 1) {
          status = undefined;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      // HealthCheckResponse { status: SERVING } is field 1, varint 1.
      assert.deepEqual(status, [0x08, 0x01], stderr);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
