// The package and the install step, as an operator would use them: `npm pack` of this checkout (dist/ built by
// the unit project's global setup), then
//   - scripts/install.sh --root into a temporary tree: the package under /opt/teredo-agents, the bins linked in
//     /usr/local/bin, the units and the example configs in /etc; every path a unit's ExecStart=/ExecStartPre=
//     runs exists in the staged tree, the staged binaries accept the example configs, and a second install keeps
//     an edited config;
//   - `npm install -g --prefix TMP tarball`: teredo-server --help and rasadv --help run from TMP/bin.
// Both need the npm registry or npm's cache for the production dependencies; without either the tests are
// skipped, saying so. Nothing outside the temporary directory is written.

import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipOrFail } from '../require.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'install-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Network trouble npm reports when neither the registry nor its cache can serve a dependency. */
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ENETUNREACH|ECONNREFUSED|ETIMEDOUT|ENOTCACHED|network/i;

function sh(cmd: string, args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A path as the staged tree would resolve it once copied to /: absolute links are followed inside `root`. */
function resolveStaged(root: string, path: string): string {
  let p = join(root, path);
  for (let hops = 0; hops < 10 && lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink(); hops++) {
    const target = readlinkSync(p);
    p = target.startsWith('/') ? join(root, target) : resolve(dirname(p), target);
  }
  return p;
}

let tarball = '';
beforeAll(() => {
  // --ignore-scripts: dist/ is already built (test/build-dist.ts); prepack would build it again.
  const r = sh('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir]);
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  tarball = join(dir, r.stdout.trim().split('\n').at(-1)!);
}, 120_000);

describe('npm pack', () => {
  it('holds the compiled agents, the addon sources, the units and the examples, and no tests', () => {
    const list = sh('tar', ['-tzf', tarball]).stdout.split('\n');
    for (const path of Object.values(pkg.bin)) expect(list).toContain(`package/${path}`);
    for (const f of ['native/binding.gyp', 'native/build.mjs', 'systemd/teredo-server.service', 'examples/teredo-server.json', 'scripts/install.sh']) expect(list).toContain(`package/${f}`);
    expect(list.filter((f) => f.startsWith('package/dist/test/') || f.startsWith('package/test/'))).toEqual([]);
  });
});

describe('scripts/install.sh --root', { timeout: 300_000 }, () => {
  const root = join(dir, 'root');

  it('stages the package, bin links, units and example configs; the units run paths that exist', (ctx) => {
    const r = sh(join(ROOT, 'scripts/install.sh'), ['--root', root, '--tarball', tarball]);
    if (r.status !== 0 && OFFLINE.test(r.stderr)) skipOrFail(ctx, `the npm registry or npm's cache for the dependencies:\n${r.stderr}`);
    expect(r.status, r.stderr).toBe(0);

    for (const name of Object.keys(pkg.bin)) {
      expect(readlinkSync(join(root, 'usr/local/bin', name))).toBe(`/opt/teredo-agents/bin/${name}`);
      expect(existsSync(resolveStaged(root, `/usr/local/bin/${name}`))).toBe(true);
    }
    const units = readdirSync(join(ROOT, 'systemd')).filter((f) => f.endsWith('.service'));
    expect(readdirSync(join(root, 'etc/systemd/system')).sort()).toEqual(units.sort());
    for (const unit of units) {
      const text = readFileSync(join(root, 'etc/systemd/system', unit), 'utf8');
      const execs = [...text.matchAll(/^Exec(?:Start|StartPre)=(\S+)(.*)$/gm)];
      expect(execs.length).toBeGreaterThanOrEqual(2);
      for (const [, bin, rest] of execs) {
        const staged = resolveStaged(root, bin!);
        expect(existsSync(staged), `${unit}: ${bin} -> ${staged}`).toBe(true);
        // Each unit's config file is installed, and its ExecStartPre (--check-config) accepts it.
        const config = /--config (\S+)/.exec(rest!)?.[1];
        expect(config, unit).toBeDefined();
        expect(existsSync(join(root, config!)), `${unit}: ${config}`).toBe(true);
        if (/--check-config/.test(rest!)) {
          const args = rest!.trim().split(/\s+/).map((a) => (a === config ? join(root, config) : a));
          expect(sh(process.execPath, [staged, ...args]), unit).toMatchObject({ status: 0, stdout: 'config ok\n' });
        }
      }
    }
    // The addon was built for the installed package.
    expect(existsSync(join(root, 'opt/teredo-agents/lib/node_modules/teredo-agents/native/build/Release/teredo_io.node'))).toBe(true);
  });

  it('a second install keeps an edited config', (ctx) => {
    const config = join(root, 'etc/teredo-agents/teredo-server.json');
    if (!existsSync(config)) skipOrFail(ctx, `${config}, staged by the test before`);
    writeFileSync(config, '{"address":"198.18.0.10"}\n');
    const r = sh(join(ROOT, 'scripts/install.sh'), ['--root', root, '--tarball', tarball]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('/etc/teredo-agents/teredo-server.json exists, kept');
    expect(readFileSync(config, 'utf8')).toBe('{"address":"198.18.0.10"}\n');
  });

  it('refuses a relative --prefix and an unknown option with exit 2', () => {
    expect(sh(join(ROOT, 'scripts/install.sh'), ['--root', root, '--prefix', 'opt'])).toMatchObject({ status: 2, stderr: expect.stringContaining('must be absolute paths') });
    expect(sh(join(ROOT, 'scripts/install.sh'), ['--frobnicate'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown option --frobnicate') });
  });
});

describe('npm install -g of the tarball', { timeout: 300_000 }, () => {
  it('gives working teredo-server and rasadv commands in PREFIX/bin', (ctx) => {
    const prefix = join(dir, 'global');
    const r = sh('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
    if (r.status !== 0 && OFFLINE.test(r.stderr)) skipOrFail(ctx, `the npm registry or npm's cache for the dependencies:\n${r.stderr}`);
    expect(r.status, r.stderr).toBe(0);
    const server = sh(join(prefix, 'bin/teredo-server'), ['--help'], dir);
    expect(server).toMatchObject({ status: 0, stdout: expect.stringContaining('Teredo server (RFC 4380 §5.3)') });
    expect(server.stdout).toContain('--miredo-conf');
    const rasadv = sh(join(prefix, 'bin/rasadv'), ['--help'], dir);
    expect(rasadv).toMatchObject({ status: 0, stdout: expect.stringContaining('rasadv <advertise|listen>') });
  });
});
