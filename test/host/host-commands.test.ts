// A fresh machine has the base image's Debian packages plus what scripts/setup-host.sh installs; every system
// command the tree runs must come from one of the two, or CI on a new machine fails where a machine with
// packages installed by hand passes (conntrack once did). scripts/host-commands.tsv lists each command, its
// package and where it comes from; this test keeps the list, the tree and setup-host.sh in agreement, and
// checks the list against dpkg for the commands this machine has.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWithout } from '../require.js';
import { type CommandUse, shellCommands, sourceCommands } from './command-scan.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
/** Where the tree runs commands on the host. scripts/docker/ runs inside the image (the Dockerfile installs its packages). */
const SCANNED = ['src', 'agents', 'lab', 'test', 'scripts', 'bench', 'native', '.ci'];
const NOT_ON_HOST = ['scripts/docker', 'native/build'];
/** Directories dpkg installs commands into (merged /usr: /bin is /usr/bin). */
const SYSTEM_BIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

interface Row {
  readonly command: string;
  readonly pkg: string;
  readonly from: 'base' | 'setup-host';
  readonly note: string;
}

function readInventory(): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of readFileSync(join(ROOT, 'scripts/host-commands.tsv'), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [command = '', pkg = '', from = '', note = ''] = line.split('\t');
    if (from !== 'base' && from !== 'setup-host') throw new Error(`host-commands.tsv: ${command}: from is "${from}", not base or setup-host`);
    rows.set(command, { command, pkg, from, note });
  }
  return rows;
}

/** The packages in setup-host.sh's `pkgs=(...)` list. */
export function setupHostPackages(script: string): string[] {
  const m = /^pkgs=\(([^)]*)\)/m.exec(script);
  if (!m) throw new Error('scripts/setup-host.sh: no pkgs=(...) list');
  return m[1]!.split(/\s+/).filter((p) => p !== '');
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(join(ROOT, dir))) {
    const path = join(dir, e);
    if (NOT_ON_HOST.includes(path) || e === 'node_modules') continue;
    if (statSync(join(ROOT, path)).isDirectory()) yield* files(path);
    else yield path;
  }
}

function onThisMachine(command: string): boolean {
  return SYSTEM_BIN.some((d) => existsSync(join(d, command)));
}

/** The texts of the scripts/*-lib.sh files that `script` names (it sources them: their functions are not commands). */
function sourced(script: string): string[] {
  return [...script.matchAll(/\/([\w-]+-lib\.sh)\b/g)].map((m) => readFileSync(join(ROOT, 'scripts', m[1]!), 'utf8'));
}

/** Every command the tree runs; a guessed one (an argv prefix kept in a constant) only when it is a real command. */
function scanTree(listed: ReadonlyMap<string, Row>): CommandUse[] {
  const uses: CommandUse[] = [];
  for (const dir of SCANNED.filter((d) => existsSync(join(ROOT, d)))) {
    for (const file of files(dir)) {
      const text = (): string => readFileSync(join(ROOT, file), 'utf8');
      if (/\.(ts|mjs|js)$/.test(file)) uses.push(...sourceCommands(file, text()).filter((u) => !u.guess || listed.has(u.command) || onThisMachine(u.command)));
      else if (file.endsWith('.sh') || file === '.ci/run') uses.push(...shellCommands(text(), sourced(text())).map((command) => ({ command, where: file })));
    }
  }
  return uses;
}

/** Packages dpkg says own `command` in the system bin directories, following symlinks (cc -> alternatives -> gcc). */
function owners(paths: ReadonlyMap<string, string[]>): Map<string, Set<string>> {
  const all = [...new Set([...paths.values()].flat())];
  const r = spawnSync('dpkg-query', ['-S', ...all], { encoding: 'utf8' });
  const byPath = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([^:][^ ]*(?:, [^ ]+)*): (\/.*)$/.exec(line);
    if (m && !line.startsWith('diversion')) byPath.set(m[2]!, m[1]!.split(', ').map((p) => p.replace(/:.*$/, '')));
  }
  return new Map([...paths].map(([command, ps]) => [command, new Set(ps.flatMap((p) => byPath.get(p) ?? []))]));
}

/** A command's paths as dpkg may record them: each system bin directory's copy, its /usr twin, each symlink hop. */
function dpkgPaths(command: string): string[] {
  const out: string[] = [];
  for (const dir of SYSTEM_BIN) {
    let path = join(dir, command);
    for (let hop = 0; hop < 8 && existsSync(path); hop++) {
      out.push(path, path.startsWith('/usr/') ? path.slice(4) : `/usr${path}`);
      let target: string;
      try {
        target = readlinkSync(path);
      } catch {
        break;
      }
      path = resolve(dirname(path), target);
    }
  }
  return out;
}

const inventory = readInventory();
const scanned = scanTree(inventory);

describe('scripts/host-commands.tsv', () => {
  it('lists every command the tree runs', () => {
    const unlisted = scanned.filter((u) => !inventory.has(u.command));
    expect(unlisted.map((u) => `${u.command} (${u.where})`)).toEqual([]);
  });

  it('lists no command the tree does not run, unless a note says who runs it', () => {
    const found = new Set(scanned.map((u) => u.command));
    expect([...inventory.values()].filter((r) => r.note === '' && !found.has(r.command)).map((r) => r.command)).toEqual([]);
  });

  it('agrees with scripts/setup-host.sh: it installs every setup-host package, and no package the list does not explain', () => {
    const pkgs = setupHostPackages(readFileSync(join(ROOT, 'scripts/setup-host.sh'), 'utf8'));
    const listed = new Set([...inventory.values()].map((r) => r.pkg));
    const notInstalled = [...inventory.values()].filter((r) => r.from === 'setup-host' && !pkgs.includes(r.pkg));
    expect(notInstalled.map((r) => `${r.command} (${r.pkg})`)).toEqual([]);
    expect(pkgs.filter((p) => !listed.has(p))).toEqual([]);
  });

  describe.skipIf(skipWithout('dpkg-query (Debian dpkg)', onThisMachine('dpkg-query')))('against dpkg', () => {
    it('names the package that provides each command this machine has', () => {
      const present = new Map([...inventory.keys()].map((c) => [c, dpkgPaths(c)] as const).filter(([, p]) => p.length > 0));
      const owned = owners(present);
      const wrong = [...owned].filter(([c, pkgs]) => !pkgs.has(inventory.get(c)!.pkg)).map(([c, pkgs]) => `${c}: listed ${inventory.get(c)!.pkg}, dpkg says ${[...pkgs].join(', ') || 'no package'}`);
      expect(wrong).toEqual([]);
      // The check sees most of the list (a machine set up by scripts/setup-host.sh has all of it).
      expect(owned.size).toBeGreaterThan(inventory.size / 2);
    });
  });
});

describe('the scanner (a command it cannot see is a command the check cannot ask for)', () => {
  it('finds runner argv, child_process commands, wrapped commands, sh -c scripts and system paths', () => {
    const src = `
      const NOBODY = ['setpriv', '--reuid=65534'];
      const script = 'conntrack -L | grep -c udp';
      await lab.execOk('nat', ['conntrack', '-F']);
      await exec(inNs('ns1', ['socat', '-u', 'x', 'y']));
      spawn('ip', ['netns', 'exec', 'b', 'tcpdump', '-i', 'eth0']);
      execFileSync('cc', ['-O2']);
      lab.spawn('h', ['stdbuf', '-oL', 'radvdump']);
      lab.exec('h', ['sh', '-c', script]);
      const ANALYZE = '/usr/bin/systemd-analyze';
      run(['encode', '--server', '1.2.3.4']);
      expect(x).toEqual(['ping', 'pong']);`;
    expect(sourceCommands('x.ts', src).map((u) => `${u.command}${u.guess ? '?' : ''}`).sort()).toEqual(
      ['cc', 'conntrack', 'conntrack', 'grep', 'ip', 'radvdump', 'setpriv?', 'sh', 'socat', 'stdbuf', 'systemd-analyze', 'tcpdump'].sort(),
    );
  });

  it('reads shell: substitutions, pipes, wrappers and command -v count; quotes, comments, heredocs, functions and case patterns do not', () => {
    const script = `#!/bin/sh
      # conntrack -F would be a comment
      log() { echo "$*" >&2; }
      pkgs=(iproute2 nftables
        conntrack)
      work=$(mktemp -d) && n=$(( $# + 1 ))
      case "$1" in
        start) log go ;;
      esac
      cat >"$work/x" <<'EOF'
      tshark -r in.pcap
      EOF
      command -v debootstrap >/dev/null || timeout 5 nft list ruleset | sort
      echo 'rm -rf /' ; xargs -r kill < pids; log "$(id -u)"
      for i in $(seq 3); do sleep 1; done`;
    expect(shellCommands(script).sort()).toEqual(['cat', 'debootstrap', 'id', 'kill', 'mktemp', 'nft', 'seq', 'sleep', 'sort', 'timeout'].sort());
  });

  it("reads setup-host.sh's package list", () => {
    expect(setupHostPackages('x=1\npkgs=(iproute2 nftables\n  conntrack)\nmissing=()\n')).toEqual(['iproute2', 'nftables', 'conntrack']);
  });
});
