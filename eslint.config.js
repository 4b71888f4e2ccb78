// Lint rules. The one that matters most: src/wire and src/engine stay sans-I/O
// (no node I/O modules, no timers, no wall or monotonic clock reads); they take `now` as an argument.
// And src/ is the library: its applications (agents/, lab/) import it, never the other way round.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['dgram', 'net', 'fs', 'fs/promises', 'child_process', 'timers', 'timers/promises', 'os', 'http', 'https', 'worker_threads', 'process', 'perf_hooks', 'readline', 'tls', 'cluster'];
const bannedImports = [
  ...ioModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'src/wire and src/engine are sans-I/O: do I/O in src/io or src/runtime.' })),
];

// Part of every src/ block below: a later block's no-restricted-imports replaces an earlier one's for its files.
const noApplications = { group: ['**/agents/**', '**/lab/**'], message: 'src/ is the library: it must not import an application (agents/, lab/).' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', performance: 'readonly', AbortController: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noApplications] }] },
  },
  {
    files: ['src/wire/**/*.ts', 'src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: bannedImports,
        patterns: [noApplications, { group: ['**/io/**', '**/runtime/**', '../io/*', '../runtime/*'], message: 'wire/engine must not depend on io or runtime.' }],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Engines take `now`; the driver owns timers.' },
        { name: 'setInterval', message: 'Engines take `now`; the driver owns timers.' },
        { name: 'setImmediate', message: 'Engines take `now`; the driver owns timers.' },
        { name: 'performance', message: 'Engines take `now` as an argument.' },
        { name: 'process', message: 'No process access in wire/engine.' },
        { name: 'Buffer', message: 'Use Uint8Array in wire/engine.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Engines take `now` as an argument.' },
        { object: 'Math', property: 'random', message: 'Engines take a Random as an argument (seeded in tests).' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'Engines take `now` as an argument.' }],
    },
  },
  // The layers below the engines never import them: shared vocabulary (Endpoint4, address predicates, packet
  // checks) lives in src/wire, so wire and io stay usable without any engine.
  {
    files: ['src/wire/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: bannedImports,
        patterns: [noApplications, { group: ['**/io/**', '**/runtime/**', '**/engine/**', '../io/*', '../runtime/*', '../engine/*'], message: 'src/wire is the bottom layer: it must not depend on engine, io or runtime.' }],
      }],
    },
  },
  {
    files: ['src/io/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noApplications, { group: ['**/engine/**', '../engine/*'], message: 'src/io must not depend on src/engine: shared types live in src/wire.' }],
      }],
    },
  },
);
