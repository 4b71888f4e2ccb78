// One reader for Miredo's configuration format (miredo.conf(5), miredo-server.conf(5)), used by every agent that
// imports such a file (teredo-server, teredo-relay, teredo-client: `--miredo-conf FILE`). Each agent declares a
// directive table; this file owns the syntax and the one policy:
//
//   syntax (Miredo's src/conf.c): one "Name value" per line, separated by spaces or tabs; names case-insensitive;
//     a line whose FIRST word starts with '#' is a comment (as Miredo's sscanf reads it: "Name value # note" is
//     a directive followed by a comment); empty lines ignored; no quoting; lines of at most 1054 characters.
//   policy: an unknown directive, a repeated directive, a directive without a value, or more than one word of value
//     is REFUSED, naming FILE:LINE (Miredo only warns "Superfluous directive" and runs with its default: a typo such
//     as `ServerAdress2` would silently change what runs). A directive Miredo knows that means nothing here is
//     accepted with a warning, which `--check-config` prints and the start logs.
//
// Unlike Miredo, a last line without a newline is read, not skipped.

import { readFileSync } from 'node:fs';
import { parseIpv6 } from '../wire/ipv6-address.js';
import { AgentError } from './errors.js';
import type { ImportedFile } from './config.js';

/** Longest line Miredo reads: its 1056-byte buffer less the newline and the terminating NUL. */
export const MIREDO_MAX_LINE = 1054;

/** What one directive means to the importing agent. */
export interface MiredoDirective {
  /** The directive as Miredo's documentation spells it, e.g. 'ServerBindAddress2'. */
  readonly name: string;
  /**
   * Turns the value into config values (field name -> value, as a JSON --config file would hold them); returns
   * a problem text (without the FILE:LINE part) when the value is wrong. Omitted: accepted, with `ignored`.
   */
  readonly apply?: (value: string, out: Record<string, unknown>) => string | undefined;
  /** Why a directive Miredo knows has no effect here (becomes a warning). */
  readonly ignored?: string;
}

export interface MiredoFileKind {
  /** For messages: 'miredo-server.conf', 'miredo.conf (relay)'. */
  readonly what: string;
  readonly directives: readonly MiredoDirective[];
  /** Directives of Miredo's other file kinds, named when found here by mistake: lower-case name -> hint. */
  readonly elsewhere?: Readonly<Record<string, string>>;
  /** Whole-file rules once every line is read (e.g. the relay's RelayType); returns problems. */
  readonly finish?: (seen: ReadonlyMap<string, number>, out: Record<string, unknown>) => string[];
}

export interface MiredoParse {
  readonly values: Record<string, unknown>;
  readonly problems: string[];
  readonly warnings: string[];
}

/** Parses Miredo-format `text`; `where` names the file in messages ("FILE:LINE: ..."). */
export function parseMiredoText(text: string, where: string, kind: MiredoFileKind): MiredoParse {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const at = `${where}:${i + 1}`;
    if (raw.length > MIREDO_MAX_LINE) return void problems.push(`${at}: longer than ${MIREDO_MAX_LINE} characters`);
    const words = raw.split(/[ \t\r\v\f]+/).filter((w) => w !== '');
    const [name, value, extra] = words;
    if (name === undefined || name.startsWith('#')) return;
    const key = name.toLowerCase();
    const directive = kind.directives.find((d) => d.name.toLowerCase() === key);
    if (directive === undefined) return void problems.push(`${at}: unknown directive ${JSON.stringify(name)}${hintFor(key, kind)}`);
    if (value === undefined) return void problems.push(`${at}: ${directive.name} needs a value`);
    if (extra !== undefined && !extra.startsWith('#')) {
      return void problems.push(`${at}: ${directive.name} takes one value, not ${JSON.stringify(words.slice(1).join(' '))}`);
    }
    const first = seen.get(key);
    if (first !== undefined) return void problems.push(`${at}: ${directive.name} repeated (first at line ${first})`);
    seen.set(key, i + 1);
    if (directive.apply === undefined) return void warnings.push(`${at}: ${directive.name} ignored: ${directive.ignored ?? 'no meaning here'}`);
    const problem = directive.apply(value, values);
    if (problem !== undefined) problems.push(`${at}: ${directive.name} ${problem}`);
  });
  if (problems.length === 0 && kind.finish) problems.push(...kind.finish(seen, values).map((p) => `${where}: ${p}`));
  return { values, problems, warnings };
}

/**
 * Reads FILE as `kind` for a declared import (AgentDefinition.imports): the values by config field name and the
 * warnings. Throws AgentError CONFIG_READ (unreadable) or CONFIG_INVALID (every wrong line in details).
 */
export function readMiredoFile(path: string, kind: MiredoFileKind): ImportedFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AgentError('CONFIG_READ', `cannot read ${kind.what} ${path}: ${why}`, { cause: err });
  }
  const { values, problems, warnings } = parseMiredoText(text, path, kind);
  if (problems.length > 0) {
    const n = problems.length;
    throw new AgentError('CONFIG_INVALID', `invalid ${kind.what} (${n} problem${n === 1 ? '' : 's'}):`, { details: problems });
  }
  return { path, values, warnings };
}

function hintFor(key: string, kind: MiredoFileKind): string {
  const elsewhere = kind.elsewhere?.[key];
  if (elsewhere !== undefined) return ` (${elsewhere})`;
  const known = kind.directives.map((d) => d.name);
  let guess: string | undefined;
  let best = 3; // a near miss: at most two edits away
  for (const n of known) {
    const d = editDistance(n.toLowerCase(), key);
    if (d < best) [guess, best] = [n, d];
  }
  return guess !== undefined ? ` (did you mean ${guess}?)` : `; ${kind.what} takes ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

// Value parsers shared by the directive tables.

/** An IPv4 literal (Miredo resolves host names for some directives; we do not: a problem names it). */
export function ipv4Value(field: string): (value: string, out: Record<string, unknown>) => string | undefined {
  return (value, out) => {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || value.split('.').some((o) => Number(o) > 255)) return `(${JSON.stringify(value)}) must be an IPv4 address (host names are not resolved)`;
    out[field] = value;
    return undefined;
  };
}

/** An unsigned integer the way C's strtoul(s, &end, 0) reads a whole word (0x hex, leading-0 octal, decimal), at most `max`. */
export function integerValue(field: string, max: number): (value: string, out: Record<string, unknown>) => string | undefined {
  return (value, out) => {
    const n = strtoulBase0(value);
    if (n === undefined || n > max) return `(${JSON.stringify(value)}) must be an integer from 0 to ${max}`;
    out[field] = n;
    return undefined;
  };
}

/** Prefix: only the standard Teredo prefix 2001:0::/32 (RFC 4380 §2.6; Miredo 1.3 removed custom prefixes). */
export function standardPrefixOnly(value: string): string | undefined {
  let a: Uint8Array;
  try {
    a = parseIpv6(value);
  } catch {
    return `(${JSON.stringify(value)}) must be an IPv6 prefix`;
  }
  return a[0] === 0x20 && a[1] === 0x01 && a[2] === 0 && a[3] === 0 ? undefined : `(${JSON.stringify(value)}) is not supported: only the standard Teredo prefix 2001:0::/32 (RFC 4380 §2.6)`;
}

/** A string value as is (interface names, host names). */
export function textValue(field: string): (value: string, out: Record<string, unknown>) => string | undefined {
  return (value, out) => {
    out[field] = value;
    return undefined;
  };
}

function strtoulBase0(text: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return Number.parseInt(text, 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  return undefined;
}
