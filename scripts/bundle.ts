// The agents' bins as one file each: `npm run build` runs `tsc` (type checking, and dist/ for the tests and the
// lab) and then this, which replaces each agent's dist/agents/<agent>/main.js (and .map) with a bundle of it,
// its src/ modules, pino and ip-address, made with rolldown from the TypeScript sources.
// Why (docs/performance.md "Start-up (point 4)" and "Memory (point 5)"): Node's module loader resolving ~90
// files was most of a plain start's time, and ran its own path functions hot enough that V8 compiled them with
// its optimizing compilers, whose code is then part of every agent's RSS; one file does neither.
// The bundle keeps the source's shebang (the bins' V8 flags, which lab/paths.ts agentArgv reads) and stays at the
// path package.json `bin`, the Debian package and the image run. Left outside it, imported from node_modules
// when used: every package the code imports with `await import()` (yargs for `--help`, `status` and the client's
// address commands, which reads its locale files from beside its own sources; prom-client for `--metrics`), so
// a plain start neither loads nor parses them; and node's builtins. teredo-lab is a developer tool: not bundled.
//
//   node dist/scripts/bundle.js [--out DIR]      (default DIR: dist/agents; each bin goes to DIR/<agent>/main.js)
// Exit code 1, with rolldown's message, when a bundle cannot be built.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'rolldown';

/** The agents package.json lists as bins, but teredo-lab. */
export const BUNDLED_AGENTS = ['teredo-server', 'teredo-relay', 'teredo-client', 'ra-sender', 'rasadv'] as const;

/** A package name or a path inside one (`yargs`, `yargs/helpers`, `@scope/name`), not a relative or absolute path. */
const isPackage = (specifier: string): boolean => !specifier.startsWith('.') && !specifier.startsWith('/');

/** Packages imported lazily (`await import('yargs')`) stay lazy: external, loaded from node_modules when used. */
const lazyPackagesExternal: Plugin = {
  name: 'lazy-packages-external',
  resolveId(source, _importer, { kind }) {
    return kind === 'dynamic-import' && isPackage(source) ? { id: source, external: true } : null;
  },
};

/** Bundles `agents/<agent>/main.ts` under `root` into `<out>/<agent>/main.js` with its source map. */
export async function bundleAgent(root: string, agent: string, out: string): Promise<void> {
  await build({
    input: join(root, 'agents', agent, 'main.ts'),
    platform: 'node',
    external: [/^node:/],
    plugins: [lazyPackagesExternal],
    logLevel: 'warn',
    // One file even where the agent imports its own modules lazily (`await import('./x.js')`): their code is in
    // the bundle and runs at the import, as before.
    output: { file: join(out, agent, 'main.js'), format: 'esm', sourcemap: true, codeSplitting: false },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..'); // from dist/scripts
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(root, 'dist', 'agents');
  for (const agent of BUNDLED_AGENTS) await bundleAgent(root, agent, out);
}
