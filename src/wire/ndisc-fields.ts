// Field helpers shared by the Neighbor Discovery codecs (ndisc.ts, ndisc-options.ts, ndisc-options-ra.ts):
// big-endian integers and uncompressed domain names (RFC 1035 §3.1, as RDNSS/DNSSL and DNR carry them).
// Range failures are WIRE_BAD_VALUE; the message is formatted only on failure.

import { WireError } from './errors.js';

export function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

export function u32(b: Uint8Array, i: number): number {
  return b[i]! * 0x1000000 + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
}

export function putU16(out: Uint8Array, i: number, v: number, what: string): void {
  checkUint(v, 0xffff, what);
  out[i] = v >>> 8;
  out[i + 1] = v & 0xff;
}

export function putU32(out: Uint8Array, i: number, v: number, what: string): void {
  checkUint(v, 0xffffffff, what);
  out[i] = v >>> 24;
  out[i + 1] = (v >>> 16) & 0xff;
  out[i + 2] = (v >>> 8) & 0xff;
  out[i + 3] = v & 0xff;
}

/** Range check for encoders. The message is formatted only on failure: this runs for every field of every packet. */
export function checkUint(v: number, max: number, what: string): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= max)) throw new WireError('WIRE_BAD_VALUE', `ndisc: ${what} ${v} not in 0..${max}`);
}

/**
 * One uncompressed name (RFC 1035 §3.1) at bytes[start], ending before `end`: labels of printable ASCII other
 * than '.', joined by '.', and the offset after its terminating zero; undefined if that is not what is there.
 */
export function readDomainName(bytes: Uint8Array, start: number, end: number): { name: string; next: number } | undefined {
  let name = '';
  let i = start;
  for (;;) {
    if (i >= end) return undefined;
    const len = bytes[i]!;
    if (len === 0) break;
    // Lengths of 64 and up are compression pointers or reserved label types: not allowed here.
    if (len > 63 || i + 1 + len >= end) return undefined;
    if (name.length > 0) name += '.';
    for (let k = i + 1; k <= i + len; k++) {
      const c = bytes[k]!;
      if (c < 0x21 || c > 0x7e || c === 0x2e) return undefined;
      name += String.fromCharCode(c);
    }
    i += 1 + len;
  }
  i += 1;
  if (i - start > 255) return undefined; // RFC 1035 §2.3.4
  return { name, next: i };
}

/** Wire length of one name: a length byte per label, the label bytes, and the terminating zero. */
export function domainWireLength(domain: string): number {
  const name = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (name.length === 0) throw new WireError('WIRE_BAD_VALUE', 'ndisc dnssl: empty domain name');
  let labelLen = 0;
  for (let k = 0; k <= name.length; k++) {
    const c = k < name.length ? name.charCodeAt(k) : 0x2e;
    if (c === 0x2e) {
      if (labelLen === 0 || labelLen > 63) throw new WireError('WIRE_BAD_VALUE', `ndisc dnssl: bad label length in ${JSON.stringify(domain)}`);
      labelLen = 0;
    } else {
      if (c < 0x21 || c > 0x7e) throw new WireError('WIRE_BAD_VALUE', `ndisc dnssl: non-printable or non-ASCII character in ${JSON.stringify(domain)}`);
      labelLen++;
    }
  }
  const len = name.length + 2;
  if (len > 255) throw new WireError('WIRE_BAD_VALUE', `ndisc dnssl: name longer than 255 bytes: ${JSON.stringify(domain)}`);
  return len;
}

export function writeDomain(domain: string, out: Uint8Array, at: number): number {
  const name = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  for (const label of name.split('.')) {
    out[at++] = label.length;
    for (let k = 0; k < label.length; k++) out[at++] = label.charCodeAt(k);
  }
  out[at++] = 0;
  return at;
}
