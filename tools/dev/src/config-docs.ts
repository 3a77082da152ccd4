// Writes docs/configuration.md from the apps' configuration schemas, or with
// --check fails (exit 1) when the committed file differs from them.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { REPO_ROOT } from '@membrane/testing';

const APPS = ['membership-service', 'cs-gateway', 'federation-gateway'] as const;
const FILE = `${REPO_ROOT}docs/configuration.md`;

export function generateConfigurationReference(): string {
  const sections = APPS.map((app) =>
    execFileSync(process.execPath, ['--import', 'tsx', `${REPO_ROOT}apps/${app}/src/config-reference.ts`], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 }),
  );
  return [
    '# Configuration reference',
    '',
    'Generated from the apps\' configuration schemas by `npm run docs:config`; do not edit by hand.',
    'Each app reads a YAML file (`--config FILE`) with these keys, then environment',
    'variables, which win. Levels of an environment name are separated by `__`.',
    '',
    ...sections,
  ].join('\n');
}

if (process.argv[1]?.endsWith('config-docs.ts') === true) {
  const text = generateConfigurationReference();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(FILE, 'utf8');
    } catch {
      // Missing counts as different.
    }
    if (committed !== text) {
      process.stderr.write('docs/configuration.md differs from the configuration schemas; run `npm run docs:config`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(FILE, text);
    process.stdout.write(`wrote ${FILE}\n`);
  }
}
