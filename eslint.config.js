// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The one rule (docs/ARCHITECTURE.md, "The seam"): core folders reach time, timers, randomness and
// the network only through the injected Env, so the simulator can replay any run from its seed.
const CORE_FOLDER_NAMES = ['actors', 'gossip', 'ring', 'store', 'replication', 'node', 'protocol', 'health'];
const CORE_FOLDERS = CORE_FOLDER_NAMES.map((dir) => `src/${dir}/**/*.ts`);

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

// Import directions between the folders of src/ (docs/ARCHITECTURE.md, "Layers"): each folder may
// import only the folders listed for it, so the layering has no cycles and core code never reaches
// up into the daemon, the CLI or the simulator. Each folder's README.md says the same in words.
export const ALLOWED_IMPORTS = {
  runtime: [],
  protocol: ['runtime'],
  ring: ['protocol', 'runtime'],
  store: ['protocol', 'runtime'],
  gossip: ['protocol', 'runtime'],
  actors: ['protocol', 'runtime'],
  // Peer and node health from signals the node feeds in (phi accrual, latency, loss): src/health/README.md.
  health: ['runtime'],
  replication: ['actors', 'protocol', 'ring', 'runtime', 'store'],
  node: ['actors', 'gossip', 'health', 'protocol', 'replication', 'ring', 'runtime', 'store'],
  // The kv-sdk scenario runs real SDK clients (client) against real client sessions (server).
  sim: ['actors', 'client', 'gossip', 'health', 'node', 'protocol', 'replication', 'ring', 'runtime', 'security', 'server', 'store'],
  transport: ['protocol', 'runtime'],
  // TLS contexts, users and ACLs, the gossip keyring, encryption at rest (docs/SECURITY.md).
  security: ['protocol', 'runtime'],
  server: ['protocol', 'replication', 'ring', 'runtime', 'security'],
  resp: ['protocol', 'replication', 'ring', 'runtime', 'security'],
  // The SDK hashes keys as the nodes do (ring), shares the request vocabulary (replication/api types),
  // and its near cache is the store's engine (store/near-cache.ts, which the simulator runs too).
  client: ['protocol', 'replication', 'ring', 'runtime', 'store'],
  // The admin HTTP port's routes (status, ring, metrics, dashboard); edge code like server.
  admin: ['protocol', 'replication', 'ring', 'runtime', 'security', 'server'],
  daemon: ['admin', 'gossip', 'node', 'protocol', 'replication', 'resp', 'ring', 'runtime', 'security', 'server', 'store', 'transport'],
  cli: ['client', 'daemon', 'node', 'protocol', 'replication', 'resp', 'ring', 'runtime', 'security', 'server', 'sim', 'store', 'transport'],
};

const FOLDERS = Object.keys(ALLOWED_IMPORTS);

/** no-restricted-imports options for one folder: the folders it may not import, and for core folders the nondeterministic modules. */
function importRule(folder) {
  const forbidden = FOLDERS.filter((f) => f !== folder && !ALLOWED_IMPORTS[folder].includes(f));
  const allowed = ALLOWED_IMPORTS[folder].length === 0 ? 'no other folder' : `only ${ALLOWED_IMPORTS[folder].join(', ')}`;
  const patterns = forbidden.map((f) => ({
    regex: `^(\\.\\./)+${f}(/|$)`,
    message: `src/${folder} may import ${allowed} (ALLOWED_IMPORTS in eslint.config.js; docs/ARCHITECTURE.md).`,
  }));
  const core = CORE_FOLDER_NAMES.includes(folder);
  // Core code sees the seam's interfaces, never the production environment behind them.
  if (core) patterns.push({ regex: '^(\\.\\./)+runtime/real(\\.ts)?$', message: `runtime/real: ${why}.` });
  return ['error', { paths: core ? forbiddenModules : [], patterns }];
}

export default tseslint.config(
  // scratch/: one-off measurement tools behind docs/research's figures (scratch/README.md), not product code.
  { ignores: ['node_modules/**', 'dist/**', 'packages/*/dist/**', 'bench/results/**', 'scratch/**', ...['src', 'test', 'bench', 'fuzz', 'deploy', 'scripts'].map((folder) => `${folder}/**/*.js`)] },
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
      'no-restricted-syntax': [
        'error',
        { selector: 'AwaitExpression', message: 'Protocol handlers are synchronous state transitions; no await in core code.' },
      ],
    },
  },
  ...FOLDERS.map((folder) => ({ files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': importRule(folder) } })),
);
