// Builds the teredo_io addon with node-gyp; run by `npm ci` / `npm install` (the root package's install script).
// Offline-safe: node-gyp would otherwise download Node's headers, so when the running Node ships them
// (<prefix>/include/node, as Debian/NodeSource packages and the official tarballs do) we point --nodedir there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const prefix = dirname(dirname(process.execPath));
const candidates = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => p !== undefined && existsSync(p));
const nodeGyp = candidates[0];
if (nodeGyp === undefined) {
  console.error('native/build.mjs: node-gyp not found (it ships with npm); cannot build the teredo_io addon');
  process.exit(1);
}
const args = [nodeGyp, 'rebuild', `--directory=${here}`];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
