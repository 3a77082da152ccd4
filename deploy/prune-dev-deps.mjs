// Removes dev-only packages from an installed node_modules, except the
// dependency closure of the packages named with --keep. The image runs
// TypeScript through tsx, a devDependency, so `npm prune --omit=dev` (which
// would drop tsx and esbuild) is not enough and this does the same job from
// the lockfile while keeping what --keep names.
//
//   node deploy/prune-dev-deps.mjs --root /app --keep tsx [--dry-run]
//
// Only entries npm marks `"dev": true` are removed; `devOptional` entries are
// needed by the production tree and stay.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** The lockfile path that holds the package a dependency named `name` of `fromPath` resolves to, as Node would find it. */
function resolveInLock(packages, fromPath, name) {
  let base = fromPath;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/** Lockfile paths of the named packages and everything they depend on. */
function closureOf(packages, names) {
  const seen = new Set();
  const pending = names.map((name) => resolveInLock(packages, '', name)).filter((p) => p !== undefined);
  while (pending.length > 0) {
    const path = pending.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = packages[path];
    const deps = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const dep of Object.keys(deps)) {
      const resolved = resolveInLock(packages, path, dep);
      if (resolved !== undefined && !seen.has(resolved)) pending.push(resolved);
    }
  }
  return seen;
}

/** Lockfile paths of installed dev-only packages that are outside the kept closure. */
function devOnlyPaths(lock, keep) {
  const packages = lock.packages ?? {};
  const kept = closureOf(packages, keep);
  return Object.entries(packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev === true && entry.link !== true && !kept.has(path))
    .map(([path]) => path)
    .sort();
}

function removeDanglingBinLinks(root) {
  const bin = join(root, 'node_modules', '.bin');
  if (!existsSync(bin)) return;
  for (const name of readdirSync(bin)) {
    const link = join(bin, name);
    try {
      statSync(link);
    } catch {
      rmSync(link, { force: true });
    }
  }
}

function main() {
  const { values } = parseArgs({
    options: { root: { type: 'string', default: '.' }, keep: { type: 'string', multiple: true, default: [] }, 'dry-run': { type: 'boolean', default: false } },
  });
  const root = values.root;
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const paths = devOnlyPaths(lock, values.keep);
  if (values['dry-run']) {
    process.stdout.write(paths.map((p) => `${p}\n`).join(''));
    return;
  }
  let removed = 0;
  for (const path of paths) {
    const dir = join(root, path);
    if (!existsSync(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
  removeDanglingBinLinks(root);
  process.stdout.write(`removed ${removed} dev-only packages; kept ${values.keep.join(', ') || 'nothing'} and their dependencies\n`);
}

main();
