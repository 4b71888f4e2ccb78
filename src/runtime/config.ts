// Schema-driven agent configuration. An agent declares its fields once (type, default, bounds, description,
// flag name) and gets: yargs options (kebab-case flags), a loader that merges defaults < JSON config file <
// flags, validation that reports EVERY problem by field name in radvd's style ("mtu (1200) must be >=
// 1280"), unknown keys in the file reported (Miredo's "superfluous directive", with a did-you-mean), and a
// deeply frozen result typed as the agent's own config interface. `--check-config` and SIGHUP reload both
// go through loadConfig, so what starts is exactly what was checked.

import { readFileSync } from 'node:fs';
import type { Options } from 'yargs';
import { Address6 } from 'ip-address';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseIpv6 } from '../wire/ipv6-address.js';
import { AgentError } from './errors.js';

export type ScalarType = 'string' | 'integer' | 'number' | 'boolean' | 'ipv4' | 'ipv6' | 'cidr6' | 'enum';

export interface FieldSpec {
  /**
   * 'list' = array of `of` scalars; 'objects' = array of objects described by `fields` (e.g. RA prefixes);
   * 'imported' = a value only a declared import (ConfigImport) produces, already checked by its reader (e.g. the
   * interfaces of a radvd.conf); a JSON file or a flag cannot set it.
   */
  type: ScalarType | 'list' | 'objects' | 'imported';
  /**
   * Whether SIGHUP applies a change of this field to the running agent (true) or it needs a restart (false, the
   * default: sockets, devices and table sizes are not re-created under a running agent). The host computes
   * "restart needed" from these flags, and keeps the running value of every field that is not live.
   */
  live?: boolean;
  /**
   * The value names files read when the config is loaded (rasadv's `--allow @FILE`): a live field with it counts
   * as changed on every SIGHUP, so the agent reads the files again even when the names did not change.
   */
  rereads?: boolean;
  description: string;
  /** Used when neither the file nor a flag sets the field. Omit it (and `required`) for optional fields. */
  default?: unknown;
  required?: boolean;
  /** Inclusive bounds for integer / number (for a list: of each element). */
  min?: number;
  max?: number;
  /** Allowed values of an enum (for a list: of each element). */
  values?: readonly string[];
  /** Element type of a list; 'string' by default. */
  of?: ScalarType;
  /** Fields of each element of an 'objects' array. */
  fields?: Readonly<Record<string, FieldSpec>>;
  /**
   * CLI flag name; kebab-case of the key by default; false = config file only. A list flag may be repeated
   * or comma-separated; an objects flag takes JSON text.
   */
  flag?: string | false;
}

/** One FieldSpec per key of the agent's config interface T. */
export type Schema<T> = { readonly [K in keyof T]-?: FieldSpec };

export interface ConfigSpec<T> {
  fields: Schema<T>;
  /** Cross-field rules, run only when every field is individually valid; returns problem lines. */
  check?: (config: T) => string[];
  /** What is accepted but worth saying (printed by --check-config, logged at start and reload). */
  warnings?: (config: T) => string[];
}

/** A config file as read: its values by field name, and (for a foreign format) what its reader warns about. */
export interface ImportedFile {
  readonly path: string;
  readonly values: unknown;
  readonly warnings?: readonly string[];
}

/**
 * A foreign config file an agent imports in place of --config (miredo-server.conf, miredo.conf, radvd.conf):
 * `--<flag> FILE`. The runtime reads it at start and again on every SIGHUP; its values are validated like a JSON
 * file's, with the flags on top. `read` throws AgentError CONFIG_READ / CONFIG_INVALID (every problem, FILE:LINE).
 */
export interface ConfigImport {
  /** The flag without dashes, e.g. "miredo-conf". */
  readonly flag: string;
  readonly describe: string;
  read(path: string): ImportedFile;
}

/** Where the values come from: the parsed config file (if any) and the yargs argv. */
export interface ConfigSources {
  file?: ImportedFile & { readonly imported?: boolean };
  /** yargs argv, indexed by flag name. */
  flags?: Readonly<Record<string, unknown>>;
}

export type ConfigResult<T> = { ok: true; config: T; warnings: string[] } | { ok: false; problems: string[] };

export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function flagName(key: string, spec: FieldSpec): string | undefined {
  return spec.flag === false ? undefined : (spec.flag ?? kebabCase(key));
}

/** yargs options for every field that has a flag. Values stay strings so problems quote what was typed. */
export function configYargsOptions<T>(spec: ConfigSpec<T>): Record<string, Options> {
  const options: Record<string, Options> = {};
  for (const [key, field] of Object.entries<FieldSpec>(spec.fields)) {
    const flag = flagName(key, field);
    if (flag === undefined || field.type === 'imported') continue;
    const notes: string[] = [];
    if (field.type === 'enum' && field.values) notes.push(`one of: ${field.values.join(', ')}`);
    if (field.min !== undefined && field.max !== undefined) notes.push(`${field.min}..${field.max}`);
    else if (field.min !== undefined) notes.push(`>= ${field.min}`);
    else if (field.max !== undefined) notes.push(`<= ${field.max}`);
    // An empty list means "none given"; the description says what that does (e.g. "every interface").
    const emptyList = Array.isArray(field.default) && field.default.length === 0;
    if (field.default !== undefined && !emptyList) notes.push(`default ${JSON.stringify(field.default)}`);
    if (field.type === 'list') notes.push('repeatable or comma-separated');
    if (field.type === 'objects') notes.push('JSON array');
    options[flag] = {
      describe: notes.length > 0 ? `${field.description} (${notes.join('; ')})` : field.description,
      type: field.type === 'boolean' ? 'boolean' : 'string',
      group: 'Configuration:',
    };
  }
  return options;
}

/** Reads and parses a JSON config file; failures are CONFIG_READ errors naming the file. */
export function readConfigFile(path: string): { path: string; values: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AgentError('CONFIG_READ', `cannot read config file ${path}: ${why}`, { cause: err });
  }
  try {
    return { path, values: JSON.parse(text) as unknown };
  } catch (err) {
    throw new AgentError('CONFIG_READ', `config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Merges and validates; collects every problem instead of stopping at the first. */
export function validateConfig<T>(spec: ConfigSpec<T>, sources: ConfigSources): ConfigResult<T> {
  const problems: string[] = [];
  const fields = spec.fields as Readonly<Record<string, FieldSpec>>;
  let fileValues: Record<string, unknown> = {};
  if (sources.file) {
    const v = sources.file.values;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`config file ${sources.file.path} must contain a JSON object`);
    } else {
      fileValues = v as Record<string, unknown>;
      for (const key of Object.keys(fileValues)) {
        if (!Object.hasOwn(fields, key)) problems.push(unknownKey(key, Object.keys(fields), `in ${sources.file.path}`));
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    if (field.type === 'imported') {
      if (!Object.hasOwn(fileValues, key)) continue;
      if (sources.file?.imported) out[key] = fileValues[key];
      else problems.push(`${key} can only come from an imported file, not from ${sources.file?.path ?? 'a JSON file'}`);
      continue;
    }
    const flag = flagName(key, field);
    const flagValue = flag === undefined ? undefined : sources.flags?.[flag];
    if (flagValue !== undefined) {
      out[key] = checkField(key, field, fromFlag(key, field, flagValue, problems), problems);
    } else if (Object.hasOwn(fileValues, key)) {
      out[key] = checkField(key, field, fileValues[key], problems);
    } else if (field.default !== undefined) {
      out[key] = checkField(key, field, structuredClone(field.default), problems);
    } else if (field.required) {
      const where = flag === undefined ? `"${key}" in the config file` : `--${flag} or "${key}" in the config file`;
      problems.push(`${key} is required (${where})`);
    }
  }
  if (problems.length === 0 && spec.check) problems.push(...spec.check(out as T));
  if (problems.length > 0) return { ok: false, problems };
  const warnings = [...(sources.file?.warnings ?? []), ...(spec.warnings?.(out as T) ?? [])];
  return { ok: true, config: deepFreeze(out) as T, warnings };
}

/**
 * The keys whose values differ between two validated configs (deep comparison; a `rereads` field always
 * differs), split by their `live` flag: what SIGHUP can apply in place, and what needs a restart.
 */
export function changedFields<T>(spec: ConfigSpec<T>, before: T, after: T): { live: (keyof T & string)[]; restart: (keyof T & string)[] } {
  const live: (keyof T & string)[] = [];
  const restart: (keyof T & string)[] = [];
  for (const [key, field] of Object.entries<FieldSpec>(spec.fields)) {
    const k = key as keyof T & string;
    if (field.rereads !== true && JSON.stringify(before[k]) === JSON.stringify(after[k])) continue;
    (field.live === true ? live : restart).push(k);
  }
  return { live, restart };
}

/** Converts flag text to the JSON shape the file would have, so one checker serves both. */
function fromFlag(key: string, field: FieldSpec, raw: unknown, problems: string[]): unknown {
  if (field.type === 'list') {
    const items = Array.isArray(raw) ? raw : [raw];
    return items.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s !== '').map((s) => scalarFromText(field.of ?? 'string', s));
  }
  // A repeated scalar flag: the last one wins, as with most tools.
  const last = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (field.type === 'objects') {
    try {
      return JSON.parse(String(last)) as unknown;
    } catch {
      problems.push(`${key} (${show(last)}) must be a JSON array`);
      return undefined;
    }
  }
  return typeof last === 'string' && field.type !== 'imported' ? scalarFromText(field.type, last) : last;
}

function scalarFromText(type: ScalarType, text: string): unknown {
  if ((type === 'integer' || type === 'number') && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

/** Validates one value; pushes problems; returns the value to keep (undefined after a problem). */
function checkField(path: string, field: FieldSpec, value: unknown, problems: string[]): unknown {
  if (value === undefined) return undefined; // already reported by fromFlag
  if (field.type === 'list') {
    const element: FieldSpec = { ...field, type: field.of ?? 'string' };
    // One value where a list is expected (a JSON file's "server": "a", an imported single directive): a list of one.
    if (!Array.isArray(value)) return value !== null && typeof value !== 'object' ? [checkScalar(path, element, value, problems)] : fail(problems, path, value, 'must be an array');
    return value.map((v, i) => checkScalar(`${path}[${i}]`, element, v, problems));
  }
  if (field.type === 'objects') {
    if (!Array.isArray(value)) return fail(problems, path, value, 'must be an array of objects');
    return value.map((v, i) => checkObject(`${path}[${i}]`, field.fields ?? {}, v, problems));
  }
  return checkScalar(path, field, value, problems);
}

function checkObject(path: string, fields: Readonly<Record<string, FieldSpec>>, value: unknown, problems: string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(problems, path, value, 'must be an object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!Object.hasOwn(fields, key)) problems.push(unknownKey(key, Object.keys(fields), `in ${path}`));
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const p = `${path}.${key}`;
    if (Object.hasOwn(obj, key)) out[key] = checkField(p, field, obj[key], problems);
    else if (field.default !== undefined) out[key] = checkField(p, field, structuredClone(field.default), problems);
    else if (field.required) problems.push(`${p} is required`);
  }
  return out;
}

function checkScalar(path: string, field: FieldSpec, value: unknown, problems: string[]): unknown {
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? value : fail(problems, path, value, 'must be a string');
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(problems, path, value, 'must be true or false');
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(problems, path, value, `must be ${field.type === 'integer' ? 'an integer' : 'a number'}`);
      if (field.type === 'integer' && !Number.isInteger(value)) return fail(problems, path, value, 'must be an integer');
      if (field.min !== undefined && value < field.min) return fail(problems, path, value, `must be >= ${field.min}`);
      if (field.max !== undefined && value > field.max) return fail(problems, path, value, `must be <= ${field.max}`);
      return value;
    }
    case 'enum':
      return typeof value === 'string' && (field.values ?? []).includes(value)
        ? value
        : fail(problems, path, value, `must be one of ${(field.values ?? []).join(', ')}`);
    case 'ipv4':
      return typeof value === 'string' && parses(() => parseIpv4(value)) ? value : fail(problems, path, value, 'must be an IPv4 address');
    case 'ipv6':
      return typeof value === 'string' && parses(() => parseIpv6(value)) ? value : fail(problems, path, value, 'must be an IPv6 address');
    case 'cidr6': {
      const problem = typeof value === 'string' ? cidr6Problem(value) : 'must be an IPv6 prefix like 2001:db8::/64';
      return problem === undefined ? value : fail(problems, path, value, problem);
    }
    default:
      throw new AgentError('INTERNAL', `field ${path} has type ${field.type as string}, which is not a scalar type`);
  }
}

/**
 * An IPv6 prefix `addr/len` with no host bits set. Host bits are refused with the corrected prefix in the message:
 * a classic RA-config mistake (radvd issue #67) that would otherwise advertise a prefix nobody meant.
 */
function cidr6Problem(text: string): string | undefined {
  const slash = text.indexOf('/');
  const len = text.slice(slash + 1);
  if (slash < 0 || !/^\d{1,3}$/.test(len) || Number(len) > 128 || !parses(() => parseIpv6(text.slice(0, slash)))) {
    return 'must be an IPv6 prefix like 2001:db8::/64';
  }
  const prefix = new Address6(text);
  const start = prefix.startAddress().correctForm();
  if (start !== new Address6(text.slice(0, slash)).correctForm()) return `has host bits set (did you mean ${start}/${len}?)`;
  return undefined;
}

function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

function fail(problems: string[], path: string, value: unknown, rule: string): undefined {
  problems.push(`${path} (${show(value)}) ${rule}`);
  return undefined;
}

function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** "unknown key "mtuu" in /etc/x.json (did you mean "mtu"?)": a near-miss suggestion for typos. */
function unknownKey(key: string, known: readonly string[], where: string): string {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  const guess = known.find((k) => norm(k) === norm(key)) ?? known.find((k) => editDistance(norm(k), norm(key)) <= 2);
  return `unknown key ${JSON.stringify(key)} ${where}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
