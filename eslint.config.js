// Type-aware lint for every workspace: typescript-eslint's recommended rules plus the ones that
// catch what the house style forbids (floating promises, unhandled async in express handlers).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '.data/**', 'bench/**', 'scripts/**', 'nats/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain Node scripts (test support files).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: ['./common/tsconfig.json', './testing/tsconfig.json', './auth/tsconfig.json', './orders/tsconfig.json', './client/tsconfig.json', './tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-namespace': ['error', { allowDeclarations: true }],
    },
  },
  // The direction of imports between common's folders (see common/README.md): tokens and bans stand
  // alone, http and events build on them, runtime puts everything together.
  ...importDirection({
    tokens: ['bans', 'http', 'events', 'runtime'],
    bans: ['http', 'events', 'runtime'],
    http: ['events', 'runtime'],
    events: ['http', 'runtime'],
    runtime: [],
  }),
  {
    // Services take common's public subpaths, never its root (which loads everything) or its sources.
    files: ['auth/src/**/*.ts', 'orders/src/**/*.ts', 'client/src/**/*.ts', 'testing/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: '@ticketing/common', message: 'Import the subpath you need: @ticketing/common/tokens, /bans, /http, /events or /runtime.' }],
        patterns: [{ group: ['@ticketing/common/src/*', '**/common/src/*'], message: 'Import @ticketing/common by its public subpaths.' }],
      }],
    },
  },
);

/** One config block per folder of common/src, forbidding imports of the folders it must not reach. */
function importDirection(forbidden) {
  const drivers = ['pg', '@electric-sql/pglite', '@nats-io/*'];
  return Object.entries(forbidden).map(([folder, others]) => ({
    files: [`common/src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...(others.length > 0
            ? [{ group: others.map((other) => `../${other}/*`), message: `common/src/${folder} must not import ${others.join(', ')} (see common/README.md).` }]
            : []),
          { group: ['../index.js'], message: 'Import the module itself, not the root index.' },
          ...(['tokens', 'bans', 'http'].includes(folder)
            ? [{ group: drivers, message: `common/src/${folder} must load no database or NATS client.` }]
            : []),
        ],
      }],
    },
  }));
}
