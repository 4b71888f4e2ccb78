// RASADV server advertisement codec, [MS-RASA] v11.0 §2.2.1 (the protocol's single message type).
//
//   non-domain member:  "Hostname=" <host> LF NUL
//   domain member:      "Hostname=" <host> LF "Domain=" <domain> LF NUL
//
// The spec's example §4.2 prints "Hostname=myserver.Domain=example.com": a typo against §2.2.1, which we follow.
// The encoder writes exactly §2.2.1 (plus any extra key=value lines the caller asks for, after Domain).
// The decoder is tolerant, because the listener exists to *find* RAS servers, including odd ones: it reads
// key=value lines up to the first NUL, keeps unknown keys in order, and accepts a missing LF, a missing NUL, CRLF
// line ends, an empty host name and non-ASCII bytes, noting each as a deviation. What it refuses (WireError) is
// what cannot be an advertisement at all; the listener counts those by `code`:
//   WIRE_TRUNCATED        nothing before the NUL (an empty datagram, or a lone NUL)
//   WIRE_BAD_VALUE        control characters other than LF/CR/TAB, or a line that is not key=value
//   WIRE_UNEXPECTED_TYPE  well-formed key=value text without a Hostname line: not a RASADV message
// checkRasAdv, the listener's data-path check, refuses those and also what decodes but exceeds the bounds of
// what a listener stores (RASADV_MAX_*: DNS name lengths, lines, text), so a flood of huge names costs no memory.

import { WireError } from './errors.js';

/** [MS-RASA] §1.9 / §2.1: IANA "rasadv" group and port. */
export const RASADV_GROUP = '239.255.2.2';
export const RASADV_PORT = 9753;
/** [MS-RASA] §2.1: the IP TTL SHOULD be 15. */
export const RASADV_TTL = 15;
/** [MS-RASA] §3.1.2: the Advertisement Timer SHOULD have a period of 1 hour. */
export const RASADV_INTERVAL_SECONDS = 3600;
/**
 * How long the names and the message may be. [MS-RASA] §2.2.1 only says "the host name" and "the domain name"
 * of the sender; we take DNS's limits (RFC 1035 §2.3.4): a host name is one label, at most 63 bytes (Windows:
 * 15 NetBIOS / 63 DNS characters), a domain name at most 253 bytes in text form (255 octets on the wire). The
 * encoder refuses longer names; the listener drops advertisements carrying them (checkRasAdv), so what a
 * listener stores per server is bounded by the protocol, not by the datagram size (up to 65,507 bytes).
 */
export const RASADV_MAX_HOSTNAME_LENGTH = 63;
export const RASADV_MAX_DOMAIN_LENGTH = 253;
/**
 * Lines of one message: §2.2.1 has at most 2 (Hostname, Domain); the tolerant decoder keeps unknown lines so
 * that odd senders stay visible, up to 6 of them.
 */
export const RASADV_MAX_LINES = 8;
/**
 * Bytes of text before the NUL: the longest §2.2.1 message is "Hostname=" 9 + 63 + LF + "Domain=" 7 + 253 + LF
 * = 334 bytes (336 with CR LF line ends); 512 leaves 176 bytes for unknown lines.
 */
export const RASADV_MAX_TEXT_LENGTH = 512;

export interface RasAdvField {
  readonly key: string;
  readonly value: string;
}

/** What a sender advertises. `extra` lines are not in [MS-RASA]; they exist so decode → encode loses nothing. */
export interface RasAdv {
  readonly hostname: string;
  readonly domain?: string;
  readonly extra?: readonly RasAdvField[];
}

/** A departure from §2.2.1 that the decoder accepted. */
export type RasAdvDeviation =
  | 'no-nul' // the datagram ends without the NUL terminator
  | 'no-final-newline' // the last line is not terminated by LF
  | 'crlf' // lines end in CR LF
  | 'bytes-after-nul' // non-empty data after the terminating NUL (ignored)
  | 'empty-hostname'
  | 'non-ascii' // bytes >= 0x80 (decoded as UTF-8, invalid sequences become U+FFFD)
  | 'duplicate-key' // a key seen twice; the first Hostname / Domain wins
  | 'unknown-key' // a key other than Hostname and Domain (kept in `extra`)
  | 'key-order'; // Domain (or another key) before Hostname

export interface RasAdvDecoded extends RasAdv {
  readonly extra: readonly RasAdvField[];
  /** Every line in arrival order, Hostname and Domain included. */
  readonly fields: readonly RasAdvField[];
  readonly deviations: readonly RasAdvDeviation[];
}

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const NUL = 0x00;
const HOSTNAME = 'Hostname';
const DOMAIN = 'Domain';

const ascii = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

/**
 * Checks a host or domain name (or an extra line's value) before it is sent: 1 .. `max` characters (the
 * RASADV_MAX_*_LENGTH of its line), printable ASCII only ([MS-RASA] §2.2.1 says the message is an ASCII
 * string): LF or NUL would end the line or the message early, other control characters, spaces and non-ASCII
 * would reach Windows listeners as garbage. Throws WireError WIRE_BAD_VALUE.
 */
export function validateRasAdvName(name: string, what = 'hostname', max = what === 'hostname' ? RASADV_MAX_HOSTNAME_LENGTH : RASADV_MAX_DOMAIN_LENGTH): void {
  if (name.length === 0) throw new WireError('WIRE_BAD_VALUE', `${what} is empty`);
  if (name.length > max) {
    throw new WireError('WIRE_BAD_VALUE', `${what} is ${name.length} characters long; at most ${max} are allowed`);
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x20 && c < 0x7f) continue;
    const shown = c === LF ? 'a newline' : c === NUL ? 'a NUL' : c === 0x20 ? 'a space' : c > 0x7f ? `non-ASCII character ${JSON.stringify(name[i])}` : `control character 0x${c.toString(16).padStart(2, '0')}`;
    throw new WireError('WIRE_BAD_VALUE', `${what} ${JSON.stringify(name)} contains ${shown} at position ${i}; only printable ASCII without spaces is allowed`);
  }
}

function validateKey(key: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new WireError('WIRE_BAD_VALUE', `key ${JSON.stringify(key)} must be letters, digits, '_', '.' or '-'`);
  if (key === HOSTNAME || key === DOMAIN) throw new WireError('WIRE_BAD_VALUE', `${key} is not an extra key`);
}

const lines = (adv: RasAdv): string[] => {
  validateRasAdvName(adv.hostname, 'hostname', RASADV_MAX_HOSTNAME_LENGTH);
  const out = [`${HOSTNAME}=${adv.hostname}`];
  if (adv.domain !== undefined) {
    validateRasAdvName(adv.domain, 'domain', RASADV_MAX_DOMAIN_LENGTH);
    out.push(`${DOMAIN}=${adv.domain}`);
  }
  for (const { key, value } of adv.extra ?? []) {
    validateKey(key);
    validateRasAdvName(value, `value of ${key}`, RASADV_MAX_DOMAIN_LENGTH);
    out.push(`${key}=${value}`);
  }
  // What we send, our listener keeps: within its bounds on lines and text (checkRasAdv).
  if (out.length > RASADV_MAX_LINES) throw new WireError('WIRE_BAD_VALUE', `${out.length} lines; at most ${RASADV_MAX_LINES} are allowed`);
  const text = out.reduce((n, l) => n + l.length + 1, 0);
  if (text > RASADV_MAX_TEXT_LENGTH) throw new WireError('WIRE_BAD_VALUE', `${text} bytes of text; at most ${RASADV_MAX_TEXT_LENGTH} are allowed`);
  return out;
};

/** Bytes `encodeRasAdv` will produce; validates like the encoder. */
export function rasAdvEncodedLength(adv: RasAdv): number {
  return lines(adv).reduce((n, l) => n + l.length + 1, 0) + 1;
}

/** The §2.2.1 datagram payload: each line LF-terminated, then one NUL. Throws WireError on an invalid name. */
export function encodeRasAdv(adv: RasAdv): Uint8Array {
  return ascii(lines(adv).map((l) => `${l}\n`).join('') + '\0');
}

/** Why checkRasAdv refused a datagram (negative; the decoder's WireError code, or the bound, in the comment). */
export const RASADV_CHECK = {
  /** WIRE_TRUNCATED: nothing before the NUL (an empty datagram, or a lone NUL). */
  EMPTY: -1,
  /** WIRE_BAD_VALUE: a control byte other than LF/CR/TAB, a stray CR, or a line that is not key=value. */
  MALFORMED: -2,
  /** WIRE_UNEXPECTED_TYPE: well-formed key=value text without a Hostname line. */
  NO_HOSTNAME: -3,
  /** Bound (decodes): more than RASADV_MAX_TEXT_LENGTH bytes before the NUL. */
  TEXT_TOO_LONG: -4,
  /** Bound (decodes): more than RASADV_MAX_LINES lines. */
  TOO_MANY_LINES: -5,
  /** Bound (decodes): the (first) Hostname value is longer than RASADV_MAX_HOSTNAME_LENGTH bytes. */
  HOSTNAME_TOO_LONG: -6,
  /** Bound (decodes): the (first) Domain value is longer than RASADV_MAX_DOMAIN_LENGTH bytes. */
  DOMAIN_TOO_LONG: -7,
} as const;

const HOSTNAME_KEY = ascii(`${HOSTNAME}=`);
const DOMAIN_KEY = ascii(`${DOMAIN}=`);

/** data[start .. eq] is `key` followed by '=' (key includes the '='). */
const isKey = (data: Uint8Array, start: number, eq: number, key: Uint8Array): boolean => {
  if (eq + 1 - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (data[start + k] !== key[k]) return false;
  return true;
};

/**
 * The data-path twin of decodeRasAdv's validity rules, plus the bounds of what a listener keeps, for a
 * listener flooded with junk: returns the length of the text before the NUL (>= 1) when decodeRasAdv(data[offset
 * .. offset + length)) would succeed within the bounds (RASADV_MAX_TEXT_LENGTH, RASADV_MAX_LINES, and the
 * first Hostname / Domain values, the ones the decoder keeps, within RASADV_MAX_HOSTNAME_LENGTH /
 * RASADV_MAX_DOMAIN_LENGTH bytes), or the negative RASADV_CHECK reason. Order: EMPTY, then TEXT_TOO_LONG
 * (judged without reading past the bound, whatever the text holds), then the decoder's failures, then the other
 * bounds. Never throws, allocates nothing; reads at most RASADV_MAX_TEXT_LENGTH + 1 bytes.
 */
export function checkRasAdv(data: Uint8Array, offset: number, length: number): number {
  let end = offset;
  const limit = offset + Math.min(length, RASADV_MAX_TEXT_LENGTH + 1);
  while (end < limit && data[end] !== NUL) end++;
  if (end === offset) return RASADV_CHECK.EMPTY;
  if (end - offset > RASADV_MAX_TEXT_LENGTH) return RASADV_CHECK.TEXT_TOO_LONG;
  for (let i = offset; i < end; i++) {
    const c = data[i]!;
    if (c < 0x80 && ((c < 0x20 && c !== LF && c !== CR && c !== TAB) || c === 0x7f)) return RASADV_CHECK.MALFORMED;
  }
  // Lines end at LF; a last empty segment is the final newline, not a line. Each line is key=value with a
  // non-empty key (its first '=' past position 0: 0x3d never occurs inside a UTF-8 sequence), and may end in
  // CR but hold no other CR. The bounds are judged after the whole text is known to be valid.
  let hostnameLength = -1;
  let domainLength = -1;
  let lineCount = 0;
  for (let start = offset; start < end; ) {
    let stop = start;
    while (stop < end && data[stop] !== LF) stop++;
    let lineEnd = stop;
    if (lineEnd > start && data[lineEnd - 1] === CR) lineEnd--;
    let eq = -1;
    for (let i = start; i < lineEnd; i++) {
      const c = data[i]!;
      if (c === CR) return RASADV_CHECK.MALFORMED;
      if (c === 0x3d && eq < 0) eq = i;
    }
    if (eq <= start) return RASADV_CHECK.MALFORMED;
    lineCount++;
    if (hostnameLength < 0 && isKey(data, start, eq, HOSTNAME_KEY)) hostnameLength = lineEnd - eq - 1;
    else if (domainLength < 0 && isKey(data, start, eq, DOMAIN_KEY)) domainLength = lineEnd - eq - 1;
    start = stop + 1;
  }
  if (hostnameLength < 0) return RASADV_CHECK.NO_HOSTNAME;
  if (lineCount > RASADV_MAX_LINES) return RASADV_CHECK.TOO_MANY_LINES;
  if (hostnameLength > RASADV_MAX_HOSTNAME_LENGTH) return RASADV_CHECK.HOSTNAME_TOO_LONG;
  if (domainLength > RASADV_MAX_DOMAIN_LENGTH) return RASADV_CHECK.DOMAIN_TOO_LONG;
  return end - offset;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes an advertisement tolerantly (see the header); throws only WireError. */
export function decodeRasAdv(bytes: Uint8Array): RasAdvDecoded {
  const deviations = new Set<RasAdvDeviation>();
  let end = bytes.indexOf(NUL);
  if (end < 0) {
    deviations.add('no-nul');
    end = bytes.length;
  } else if (bytes.subarray(end + 1).some((b) => b !== NUL)) {
    deviations.add('bytes-after-nul');
  }
  if (end === 0) throw new WireError('WIRE_TRUNCATED', 'rasadv: no text before the NUL');

  for (let i = 0; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) deviations.add('non-ascii');
    else if ((c < 0x20 && c !== LF && c !== CR && c !== TAB) || c === 0x7f) {
      throw new WireError('WIRE_BAD_VALUE', `rasadv: control byte 0x${c.toString(16).padStart(2, '0')} at offset ${i}`);
    }
  }

  const text = utf8.decode(bytes.subarray(0, end));
  const rawLines = text.split('\n');
  if (rawLines[rawLines.length - 1] === '') rawLines.pop();
  else deviations.add('no-final-newline');

  const fields: RasAdvField[] = [];
  for (const [n, raw] of rawLines.entries()) {
    let line = raw;
    if (line.endsWith('\r')) {
      deviations.add('crlf');
      line = line.slice(0, -1);
    }
    if (line.includes('\r')) throw new WireError('WIRE_BAD_VALUE', `rasadv: stray CR in line ${n + 1}`);
    const eq = line.indexOf('=');
    if (eq <= 0) throw new WireError('WIRE_BAD_VALUE', `rasadv: line ${n + 1} is not key=value: ${JSON.stringify(line.slice(0, 64))}`);
    fields.push({ key: line.slice(0, eq), value: line.slice(eq + 1) });
  }

  let hostname: string | undefined;
  let domain: string | undefined;
  const extra: RasAdvField[] = [];
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.key)) deviations.add('duplicate-key');
    seen.add(f.key);
    if (f.key === HOSTNAME) {
      hostname ??= f.value;
    } else {
      if (hostname === undefined) deviations.add('key-order');
      if (f.key === DOMAIN) domain ??= f.value;
      else {
        deviations.add('unknown-key');
        extra.push(f);
      }
    }
  }
  if (hostname === undefined) throw new WireError('WIRE_UNEXPECTED_TYPE', 'rasadv: no Hostname line');
  if (hostname === '') deviations.add('empty-hostname');

  return { hostname, ...(domain === undefined ? {} : { domain }), extra, fields, deviations: [...deviations] };
}
