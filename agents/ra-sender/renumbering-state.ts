// The renumbering state file (RFC 9096 §3.2: a router must not forget the prefixes it advertised when it
// restarts): per interface, every prefix hosts may still hold from us and the wall-clock time its valid lifetime
// ends on them. Prefixes advertised now count as held until STATE_REFRESH_MS after the save plus their valid
// lifetime (the file is rewritten at least that often while they are advertised, so a crash loses nothing),
// or exactly their valid lifetime after a graceful stop (saved last, when no RA can follow); deprecated ones
// until their countdown ends. At start, each one that is no longer advertised (it left the
// config or the interface while we were down) is deprecated until then (the engine's restore()).
//
// The file is JSON in the unit's StateDirectory (`--state-dir`, default $STATE_DIRECTORY), written atomically
// (temporary file, fsync, rename) and read tolerantly: a missing, oversized (> MAX_STATE_BYTES), unparsable or
// foreign file is ignored with a warning, and every entry is checked (prefix syntax, flags, a finite time,
// at most MAX_RESTORED_SEC ahead) so a hostile file can at most make us deprecate a prefix for 30 days.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RaPrefix } from '../../src/engine/ra/content.js';
import type { RaSender } from '../../src/engine/ra/sender.js';
import { TWO_HOURS_SEC } from '../../src/engine/ra/deprecation.js';
import type { Millis } from '../../src/engine/types.js';
import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { parsePrefix } from './settings.js';
import { LogRateLimiter, type Logger } from '../../src/runtime/logger.js';

export const STATE_VERSION = 1;
export const MAX_STATE_BYTES = 256 * 1024;
export const MAX_STATE_INTERFACES = 64;
export const MAX_STATE_PREFIXES = 128;
/** How often the file is rewritten while prefixes are advertised (and on every change). */
export const STATE_REFRESH_MS = 60_000;
/** The longest a restored prefix is deprecated for, whatever the file says. */
export const MAX_RESTORED_SEC = 30 * 86_400;

/** One prefix hosts may hold, as stored: `validUntil` is wall-clock ms (Date.now()). */
export interface StoredPrefix {
  readonly prefix: string; // "P/LEN"
  readonly onLink: boolean;
  readonly autonomous: boolean;
  readonly routerAddress: boolean;
  readonly validUntil: number;
}

/** A prefix read back: the engine's prefix and the wall-clock ms its valid lifetime ends. */
export interface RestoredPrefix {
  readonly prefix: RaPrefix;
  readonly validUntil: number;
}

export const stateFilePath = (dir: string, instance: string | undefined): string => join(dir, instance === undefined ? 'ra-sender.state.json' : `ra-sender-${instance}.state.json`);

export const toStored = (p: RaPrefix, validUntil: number): StoredPrefix => ({ prefix: `${formatIpv6(p.prefix)}/${p.prefixLength}`, onLink: p.onLink, autonomous: p.autonomous, routerAddress: p.routerAddress, validUntil: Math.round(validUntil) });

/**
 * What `engine` (at monotonic `now`, wall-clock `wallNow`) leaves on the hosts: advertised and deprecated
 * prefixes. `marginMs`: how much longer the advertised ones may still be advertised (STATE_REFRESH_MS while
 * running, 0 once stopped).
 */
export function snapshot(engine: RaSender, now: Millis, wallNow: number, marginMs = STATE_REFRESH_MS): StoredPrefix[] {
  const out: StoredPrefix[] = [];
  for (const p of engine.config.content.prefixes) {
    if (p.validLifetimeSec === 0) continue;
    // RFC 4862 §5.5.3 (e): an infinite (or any longer) lifetime can be cut to 2 hours by a later RA, no lower.
    const sec = p.validLifetimeSec === INFINITE_LIFETIME ? TWO_HOURS_SEC : p.validLifetimeSec;
    out.push(toStored(p, wallNow + marginMs + sec * 1000));
  }
  for (const d of engine.deprecatedEntries()) out.push(toStored(d.prefix, wallNow + (d.expiresAt - now)));
  return out.slice(0, MAX_STATE_PREFIXES);
}

/** The entry `v`; null when it expired (normal: it ran out while we were down), undefined when malformed. */
function restoredPrefix(v: unknown, wallNow: number): RestoredPrefix | null | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.prefix !== 'string' || typeof o.onLink !== 'boolean' || typeof o.autonomous !== 'boolean' || typeof o.routerAddress !== 'boolean') return undefined;
  if (typeof o.validUntil !== 'number' || !Number.isFinite(o.validUntil)) return undefined;
  const parsed = parsePrefix(o.prefix);
  if (typeof parsed === 'string') return undefined;
  if (o.validUntil <= wallNow) return null;
  const validUntil = Math.min(o.validUntil, wallNow + MAX_RESTORED_SEC * 1000);
  return { prefix: { prefix: parsed.prefix, prefixLength: parsed.length, onLink: o.onLink, autonomous: o.autonomous, routerAddress: o.routerAddress, validLifetimeSec: 0, preferredLifetimeSec: 0 }, validUntil };
}

/**
 * The state file's prefixes per interface, those still valid at `wallNow`; `problem` says why (part of) the
 * file was ignored. Never throws.
 */
export function readState(path: string, wallNow: number): { interfaces: Map<string, RestoredPrefix[]>; problem?: string } {
  const interfaces = new Map<string, RestoredPrefix[]>();
  let text: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { interfaces, problem: `${path} is not a regular file: ignored` };
      if (st.size > MAX_STATE_BYTES) return { interfaces, problem: `${path} is ${st.size} bytes, more than ${MAX_STATE_BYTES}: ignored` };
      const buf = Buffer.alloc(st.size);
      const n = readSync(fd, buf, 0, st.size, 0);
      text = buf.toString('utf8', 0, n);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { interfaces };
    return { interfaces, problem: `cannot read ${path}: ${(err as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { interfaces, problem: `${path} is not JSON: ignored` };
  }
  const d = doc as { version?: unknown; interfaces?: unknown };
  if (typeof doc !== 'object' || doc === null || d.version !== STATE_VERSION || typeof d.interfaces !== 'object' || d.interfaces === null || Array.isArray(d.interfaces)) {
    return { interfaces, problem: `${path} is not a version ${STATE_VERSION} ra-sender state file: ignored` };
  }
  let malformed = 0;
  for (const [name, list] of Object.entries(d.interfaces as Record<string, unknown>).slice(0, MAX_STATE_INTERFACES)) {
    if (!Array.isArray(list)) continue;
    const prefixes: RestoredPrefix[] = [];
    for (const v of list.slice(0, MAX_STATE_PREFIXES)) {
      const p = restoredPrefix(v, wallNow);
      if (p === undefined) malformed++;
      else if (p !== null) prefixes.push(p);
    }
    if (prefixes.length > 0) interfaces.set(name, prefixes);
  }
  return malformed > 0 ? { interfaces, problem: `${path}: ${malformed} malformed entr${malformed === 1 ? 'y' : 'ies'} ignored` } : { interfaces };
}

/** Writes the state atomically: a temporary file beside it, fsync, rename. Throws on I/O errors. */
export function writeState(path: string, interfaces: ReadonlyMap<string, readonly StoredPrefix[]>): void {
  const text = `${JSON.stringify({ version: STATE_VERSION, interfaces: Object.fromEntries(interfaces) })}\n`;
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** RFC 9096 §3.3 caps on what is advertised (ND_PREFERRED_LIMIT 2700 s, ND_VALID_LIMIT 5400 s when set so). */
export interface LifetimeCaps {
  readonly maxPreferredLifetimeSec: number | undefined;
  readonly maxValidLifetimeSec: number | undefined;
}

/** `prefixes` with their lifetimes capped (preferred never above the capped valid lifetime). */
export function capLifetimes(prefixes: readonly RaPrefix[], caps: LifetimeCaps): RaPrefix[] {
  const maxValid = caps.maxValidLifetimeSec ?? INFINITE_LIFETIME;
  const maxPreferred = caps.maxPreferredLifetimeSec ?? INFINITE_LIFETIME;
  return prefixes.map((p) => {
    const validLifetimeSec = Math.min(p.validLifetimeSec, maxValid);
    return { ...p, validLifetimeSec, preferredLifetimeSec: Math.min(p.preferredLifetimeSec, maxPreferred, validLifetimeSec) };
  });
}

/** What the saver needs of an interface (interface.ts AdvertisingInterface). */
export interface StateSource {
  readonly name: string;
  readonly renumberingVersion: number;
  stored(now: Millis, marginMs: number): StoredPrefix[];
}

/**
 * Keeps the state file current: rewritten when an interface's renumbering state moves (a reload, a prefix
 * deprecated or expired) or the set of interfaces changes, and at least every STATE_REFRESH_MS. A failed write
 * is logged (once a minute at most) and retried at the next call; the agent keeps running.
 */
export class StateSaver {
  #path: string | undefined;
  #key = '';
  #savedAt = -Infinity;
  readonly #failures = new LogRateLimiter(STATE_REFRESH_MS);
  readonly #log: Logger;

  constructor(path: string | undefined, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  set path(path: string | undefined) {
    if (path !== this.#path) this.#key = '';
    this.#path = path;
  }

  /**
   * Called each link poll (monotonic `now`): saves when something moved or the refresh is due; `stopped`: the
   * last save, after the final RAs (nothing more will be advertised).
   */
  save(sources: Iterable<StateSource>, now: Millis, stopped = false): void {
    if (this.#path === undefined) return;
    const list = [...sources];
    const key = list.map((s) => `${s.name}:${s.renumberingVersion}`).join(',');
    if (!stopped && key === this.#key && now - this.#savedAt < STATE_REFRESH_MS) return;
    try {
      writeState(this.#path, new Map(list.map((s) => [s.name, s.stored(now, stopped ? 0 : STATE_REFRESH_MS)])));
      this.#key = key;
      this.#savedAt = now;
    } catch (err) {
      const suppressed = this.#failures.allow('write', now);
      if (suppressed !== undefined) this.#log.warn({ err, path: this.#path, suppressed }, 'cannot save the renumbering state: a restart would forget prefixes the hosts still hold');
    }
  }
}
