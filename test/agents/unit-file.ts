// Reads what a systemd unit in systemd/ grants its agent (user, capabilities, NoNewPrivileges) and what it runs,
// and turns that into a setpriv(1) command line, so tests start an agent under exactly the unit's identity
// without systemd. DynamicUser= has no fixed uid; its stand-in is nobody (65534), which likewise owns no files.

import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface UnitGrants {
  /** uid and gid the service runs as (nobody for DynamicUser=yes, root when neither is set). */
  readonly uid: number;
  readonly gid: number;
  /** Capability names as systemd writes them, e.g. CAP_NET_RAW; the bounding set, which must cover the ambient. */
  readonly bounding: readonly string[];
  readonly ambient: readonly string[];
  readonly noNewPrivileges: boolean;
  /** ExecStart= split into words (no quoting is used in our units). */
  readonly execStart: readonly string[];
}

const NOBODY = 65534;

/** The [Service] settings of a unit file: each key's values in order (an empty assignment resets the list). */
export function serviceSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== 'Service' || eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    out.set(key, value === '' ? [] : [...(out.get(key) ?? []), value]);
  }
  return out;
}

const words = (values: readonly string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
const yes = (values: readonly string[] | undefined): boolean => /^(yes|true|on|1)$/i.test(values?.at(-1) ?? '');

export function readUnit(path: string): UnitGrants {
  const s = serviceSettings(readFileSync(path, 'utf8'));
  const user = s.get('User')?.at(-1);
  const uid = yes(s.get('DynamicUser')) ? NOBODY : user === undefined ? 0 : Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
  const group = s.get('Group')?.at(-1);
  const gid = yes(s.get('DynamicUser')) ? NOBODY : group === undefined ? uid : Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  return {
    uid,
    gid,
    bounding: words(s.get('CapabilityBoundingSet')),
    ambient: words(s.get('AmbientCapabilities')),
    noNewPrivileges: yes(s.get('NoNewPrivileges')),
    execStart: words(s.get('ExecStart')),
  };
}

/**
 * setpriv arguments that drop to the unit's user and capability sets; `without` removes one capability from
 * every set (the "one capability fewer" case).
 */
export function setprivArgs(u: UnitGrants, without?: string): string[] {
  const set = (caps: readonly string[]): string =>
    ['-all', ...caps.filter((c) => c !== without).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
  return [
    'setpriv',
    `--reuid=${u.uid}`,
    `--regid=${u.gid}`,
    '--clear-groups',
    `--inh-caps=${set(u.ambient)}`,
    `--ambient-caps=${set(u.ambient)}`,
    `--bounding-set=${set(u.bounding)}`,
    ...(u.noNewPrivileges ? ['--no-new-privs'] : []),
  ];
}

/** Bit numbers of the capabilities our units use (linux/capability.h), to check /proc/PID/status CapEff. */
export const CAP_BITS: Readonly<Record<string, number>> = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13 };

export function capMask(caps: readonly string[]): bigint {
  return caps.reduce((m, c) => {
    const bit = CAP_BITS[c];
    if (bit === undefined) throw new Error(`capability ${c} missing from CAP_BITS`);
    return m | (1n << BigInt(bit));
  }, 0n);
}
