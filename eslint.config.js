// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The one rule (docs/ARCHITECTURE.md, "The seam"): core folders reach time, timers, randomness and
// the network only through the injected Env, so the simulator can replay any run from its seed.
const CORE_FOLDERS = ['actors', 'gossip', 'ring', 'store', 'replication', 'node', 'protocol'].map(
  (dir) => `src/${dir}/**/*.ts`,
);

const why = 'core code must use the injected Env (src/runtime/env.ts) so simulation stays deterministic';

const nondeterministicGlobals = [
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'performance',
  'crypto',
].map((name) => ({ name, message: `${name}: ${why}.` }));

const forbiddenModules = ['ws', 'net', 'dgram', 'http', 'https', 'crypto', 'timers', 'perf_hooks', 'seedrandom']
  .flatMap((m) => (m === 'ws' || m === 'seedrandom' ? [m] : [m, `node:${m}`]))
  .map((name) => ({ name, message: `${name}: ${why}.` }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'packages/*/dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: CORE_FOLDERS,
    rules: {
      'no-restricted-globals': ['error', ...nondeterministicGlobals],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: `Math.random: ${why}.` },
        { object: 'process', property: 'hrtime', message: `process.hrtime: ${why}.` },
        { object: 'process', property: 'nextTick', message: `process.nextTick: ${why}.` },
        { object: 'globalThis', property: 'setTimeout', message: `setTimeout: ${why}.` },
        { object: 'globalThis', property: 'Date', message: `Date: ${why}.` },
      ],
      'no-restricted-imports': ['error', { paths: forbiddenModules }],
      'no-restricted-syntax': [
        'error',
        { selector: 'AwaitExpression', message: 'Protocol handlers are synchronous state transitions; no await in core code.' },
      ],
    },
  },
);
