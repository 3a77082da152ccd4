// Lint rules for the whole workspace. Module boundaries come from the `tags`
// in each project's project.json:
//   type:app  may import type:lib
//   type:lib  may import type:lib only (never an app)
//   type:tool may import type:lib
//   io:none   (pure libraries) may import io:none libraries only, and no Node I/O module.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const nodeIoModules = [
  'fs', 'fs/promises', 'net', 'tls', 'http', 'https', 'http2', 'dgram', 'dns',
  'child_process', 'cluster', 'worker_threads', 'readline', 'process',
].flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', 'libs/proto/src/gen/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'io:none', onlyDependOnLibsWithTags: ['io:none'] },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports; the project has no default exports.' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Pure libraries: no I/O outside their tests.
    files: ['libs/canonical-json/src/**/*.ts', 'libs/events/src/**/*.ts', 'libs/membership/src/**/*.ts', 'libs/views/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test-support/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: nodeIoModules }],
    },
  },
  {
    files: ['eslint.config.mjs'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
