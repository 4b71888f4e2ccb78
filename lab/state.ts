// The lab's state on disk: /run/teredo-lab/<id>/ holds state.json (what exists, which occupants run with
// which PIDs), occupant configs and logs. /run is a tmpfs, like /run/netns, so state and namespaces vanish
// together at reboot. `down` trusts this file and, because an `up` may have been killed before writing it
// fully, also the kernel: every namespace named `<id>-*` belongs to the lab.

import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { LAB_ID_PATTERN, type LabPlan } from './topology.js';
import type { ProcId } from './processes.js';

export const RUN_DIR = process.env['TEREDO_LAB_RUN_DIR'] ?? '/run/teredo-lab';
const STATE_VERSION = 1;

export interface OccupantRecord {
  /** `<role>@<node>`, unique within a lab. */
  readonly key: string;
  readonly role: string;
  readonly impl: string;
  readonly node: string;
  readonly proc: ProcId;
  /** Private directory (configs, pid files) and the log receiving the process's stdout and stderr. */
  readonly dir: string;
  readonly logFile: string;
  /** Wall-clock ms when started, and how long until it was ready (bench: qualification time). */
  readonly startedAt: number;
  readonly readyAfterMs?: number;
}

export interface LabState {
  readonly version: number;
  readonly id: string;
  /** Random per bring-up; the reaper acts only while the state file still carries it. */
  readonly token: string;
  readonly createdAt: string;
  readonly phase: 'building' | 'up';
  /** Process that owns the lab (tests, demo); the reaper tears the lab down when it dies. */
  readonly ownerPid?: number;
  readonly reaper?: ProcId;
  readonly plan: LabPlan;
  readonly occupants: readonly OccupantRecord[];
  /**
   * Daemons the network itself runs (the lossy NAT's delay line, delay-line.ts; the upnp NATs' miniupnpd and
   * their STUN server, upnp-nat.ts); `down` stops them by PID.
   */
  readonly daemons?: readonly DaemonRecord[];
}

/** A daemon that belongs to the network, not to an occupant role: which program, where, and its log. */
export interface DaemonRecord {
  readonly name: string;
  readonly node: string;
  readonly proc: ProcId;
  readonly logFile: string;
  /** How it was started and the UDP port it listens on once ready: what Lab.restartDaemon needs (not the delay lines). */
  readonly argv?: readonly string[];
  readonly udpPort?: number;
}

export function labDir(id: string): string {
  return join(RUN_DIR, id);
}

export function stateFile(id: string): string {
  return join(labDir(id), 'state.json');
}

export function readState(id: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile(id), 'utf8');
  } catch {
    return undefined;
  }
  const s = JSON.parse(text) as LabState;
  if (s.version !== STATE_VERSION) throw new LabError('LAB_BAD_ARGUMENT', `${stateFile(id)} has version ${s.version}, this teredo-lab reads ${STATE_VERSION}`);
  return s;
}

export function readStateFile(path: string): LabState {
  return JSON.parse(readFileSync(path, 'utf8')) as LabState;
}

/** Atomic replace: readers never see a half-written file. */
export function writeState(s: LabState): void {
  const file = stateFile(s.id);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, file);
}

export function newState(id: string, plan: LabPlan, ownerPid?: number): LabState {
  return {
    version: STATE_VERSION,
    id,
    token: randomBytes(8).toString('hex'),
    createdAt: new Date().toISOString(),
    phase: 'building',
    ...(ownerPid !== undefined ? { ownerPid } : {}),
    plan,
    occupants: [],
  };
}

/**
 * Claims a run id by creating its directory (mkdir is atomic, so two concurrent `up`s never share an id).
 * `taken` are ids whose namespaces exist without a directory (e.g. left by a killed run): skipped.
 */
export function claimId(taken: ReadonlySet<string>, wanted?: string): string {
  ensureRunDir();
  const candidates = wanted ? [wanted] : shuffledIds();
  for (const id of candidates) {
    if (!LAB_ID_PATTERN.test(id)) throw new LabError('LAB_BAD_ARGUMENT', `lab id must look like tl3f (tl + 2 hex digits), got ${JSON.stringify(id)}`);
    if (taken.has(id)) continue;
    try {
      mkdirSync(labDir(id), { mode: 0o755 });
      // World-readable: occupants drop privileges (miredo runs as user miredo) and must read their configs.
      chmodSync(labDir(id), 0o755);
      return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new LabError('LAB_NO_FREE_ID', wanted ? `lab ${wanted} already exists (teredo-lab down --id ${wanted})` : 'no free lab id: 256 labs exist');
}

/** Ids with a state directory. */
export function listStateIds(): string[] {
  try {
    return readdirSync(RUN_DIR).filter((n) => LAB_ID_PATTERN.test(n)).sort();
  } catch {
    return [];
  }
}

function ensureRunDir(): void {
  mkdirSync(RUN_DIR, { recursive: true, mode: 0o755 });
  chmodSync(RUN_DIR, 0o755);
}

function shuffledIds(): string[] {
  const ids = Array.from({ length: 256 }, (_, i) => `tl${i.toString(16).padStart(2, '0')}`);
  const r = randomBytes(256);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = r[i]! % (i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}
