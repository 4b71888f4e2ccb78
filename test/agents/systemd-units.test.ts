// The units in systemd/: `systemd-analyze verify` finds nothing to say about any of them (run against a
// throw-away root holding the units, stub executables at their Exec paths and the host's own system units, so
// nothing needs installing on this host), a broken copy is caught (the check can fail), and what each unit
// grants is what its comments promise (read by unit-file.ts, the same reader test/netns/units.test.ts starts
// the agents with).

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../require.js';
import { readUnit, serviceSettings, setprivArgs } from './unit-file.js';

const SYSTEMD = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../systemd');
const UNITS = readdirSync(SYSTEMD).filter((f) => f.endsWith('.service')).sort();
const ANALYZE = '/usr/bin/systemd-analyze';
const HOST_UNITS = '/usr/lib/systemd/system';
const haveAnalyze = existsSync(ANALYZE) && existsSync(HOST_UNITS);

const root = mkdtempSync(join(tmpdir(), 'units-verify-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function verify(unit: string): { status: number | null; output: string } {
  const r = spawnSync(ANALYZE, ['verify', `--root=${root}`, unit], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  if (!haveAnalyze) return;
  const units = join(root, 'etc/systemd/system');
  mkdirSync(units, { recursive: true });
  // The targets and slices the units reach (multi-user.target, network-online.target, sysinit.target...).
  cpSync(HOST_UNITS, join(root, HOST_UNITS), { recursive: true });
  for (const unit of UNITS) {
    const text = readFileSync(join(SYSTEMD, unit), 'utf8');
    writeFileSync(join(units, unit), text);
    for (const [, path] of text.matchAll(/^Exec\w+=[-@:+!]*(\/\S+)/gm)) {
      mkdirSync(join(root, dirname(path!)), { recursive: true });
      writeFileSync(join(root, path!), '#!/bin/sh\n');
      chmodSync(join(root, path!), 0o755);
    }
  }
});

describe.skipIf(skipWithout(`${ANALYZE} and ${HOST_UNITS} (Debian systemd)`, haveAnalyze))('systemd-analyze verify', { timeout: 60_000 }, () => {
  it.each(UNITS)('%s: no finding', (unit) => {
    expect(verify(unit)).toEqual({ status: 0, output: '' });
  });

  it('reports a broken unit (so the check above can fail)', () => {
    const text = readFileSync(join(SYSTEMD, 'teredo-server.service'), 'utf8').replace('Type=exec', 'Type=sometimes').replace('ProtectHome=yes', 'ProtectHome=maybe');
    writeFileSync(join(root, 'etc/systemd/system/broken.service'), text);
    const r = verify('broken.service');
    expect(r.output).toContain('Failed to parse service type');
    expect(r.output).toContain('Failed to parse protect home value');
  });
});

describe('what the units grant', () => {
  it('every unit runs its agent with --config under /etc/teredo-agents, checks it first, and drops privileges', () => {
    for (const unit of UNITS) {
      const s = serviceSettings(readFileSync(join(SYSTEMD, unit), 'utf8'));
      const u = readUnit(join(SYSTEMD, unit));
      expect(u.execStart[0], unit).toMatch(/^\/usr\/local\/bin\//);
      expect(u.execStart.join(' '), unit).toMatch(/--config \/etc\/teredo-agents\/[\w-]+\.json$/);
      expect(s.get('ExecStartPre')?.[0], unit).toBe(`${u.execStart.join(' ')} --check-config`);
      expect(u.uid, unit).not.toBe(0);
      expect(u.noNewPrivileges, unit).toBe(true);
      // Ambient capabilities must lie in the bounding set, or the kernel drops them.
      for (const cap of u.ambient) expect(u.bounding, unit).toContain(cap);
    }
  });

  it('teredo-server and ra-sender get CAP_NET_RAW only, teredo-relay and teredo-client CAP_NET_ADMIN only, rasadv none', () => {
    expect(readUnit(join(SYSTEMD, 'ra-sender.service'))).toMatchObject({ bounding: ['CAP_NET_RAW'], ambient: ['CAP_NET_RAW'] });
    expect(readUnit(join(SYSTEMD, 'teredo-client.service'))).toMatchObject({ bounding: ['CAP_NET_ADMIN'], ambient: ['CAP_NET_ADMIN'] });
    expect(readUnit(join(SYSTEMD, 'teredo-server.service'))).toMatchObject({ bounding: ['CAP_NET_RAW'], ambient: ['CAP_NET_RAW'] });
    expect(readUnit(join(SYSTEMD, 'teredo-relay.service'))).toMatchObject({ bounding: ['CAP_NET_ADMIN'], ambient: ['CAP_NET_ADMIN'] });
    for (const unit of ['rasadv-advertise.service', 'rasadv-listen.service']) expect(readUnit(join(SYSTEMD, unit))).toMatchObject({ bounding: [], ambient: [] });
  });

  it('turns the grants into setpriv arguments, optionally one capability fewer', () => {
    const u = readUnit(join(SYSTEMD, 'teredo-server.service'));
    expect(setprivArgs(u)).toEqual(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all,+net_raw', '--ambient-caps=-all,+net_raw', '--bounding-set=-all,+net_raw', '--no-new-privs']);
    expect(setprivArgs(u, 'CAP_NET_RAW')).toContain('--bounding-set=-all');
  });
});
