// @ts-check
import eslint from '@eslint/js';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Infrastructure that pure domain code must not know about (STYLE.md: dependencies point inward). */
const INFRASTRUCTURE = [
  'hono',
  'hono/*',
  '@hono/*',
  '@temporalio/*',
  'drizzle-orm',
  'drizzle-orm/*',
  'postgres',
];
const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.nodus/', '.build/', 'dist/', 'src/db/migrations/', 'coverage/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['scripts/*.mjs'] }, tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflows are deterministic sandboxed code: no Node built-ins, no I/O clients, and from src/ only
    // types (activities) or values from src/shared.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({ name, message: 'workflows must not use Node built-ins' })),
          patterns: [
            {
              group: ['@temporalio/*', '!@temporalio/workflow', '!@temporalio/common'],
              message: 'workflows import only @temporalio/workflow',
            },
            {
              group: ['hono', 'hono/*', '@hono/*', 'drizzle-orm', 'drizzle-orm/*', 'postgres'],
              message: 'no I/O in workflows',
            },
            {
              group: ['../src/*', '!../src/shared', '../src/*/**', '!../src/shared/**'],
              allowTypeImports: true,
              message: 'workflows import values only from src/shared (types, e.g. of activities, are fine)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/{dicom,volume,findings,cohorts,inference}/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: INFRASTRUCTURE,
              message: 'domain code must not import hono, Temporal, drizzle or postgres',
            },
          ],
        },
      ],
    },
  },
  {
    // src/shared is imported by workflows, so it must be workflow-safe as well as infrastructure-free.
    files: ['src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({
            name,
            message: 'src/shared is workflow-safe: no Node built-ins',
          })),
          patterns: [
            {
              group: INFRASTRUCTURE,
              message: 'src/shared must not import hono, Temporal, drizzle or postgres',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
