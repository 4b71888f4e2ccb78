// The addon's virtio-net cut and merge (native/src/vnet.c) through its test window (vnetSegment, vnetCoalesce):
// golden superframes in, wire packets out with every field the cut rewrites (IPv6 payload length, TCP
// sequence and flags, UDP length) and checksums verified by this file's own RFC 1071 sum, never the addon's.

import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/io/native.js';

const native = loadNative();
const SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const DST = [0x20, 0x01, 0, 0, 0xc6, 0x12, 0x63, 0x02, 0x80, 0, 0x3f, 0x56, 0x39, 0xed, 0xff, 0xfe];
const TCP_OPTIONS = [1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78]; // NOP NOP timestamps: a 32-byte TCP header

/** RFC 1071 one's-complement sum of `bytes`, folded to 16 bits (independent of the addon's). */
function sum16(bytes: Uint8Array, start = 0): number {
  let s = start;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Pseudo-header sum (RFC 8200 §8.1) of the IPv6 packet `p` for `len` upper-layer bytes of `nh`. */
function pseudo(p: Uint8Array, len: number, nh: number): number {
  return sum16(p.subarray(8, 40), (len >>> 16) + (len & 0xffff) + nh);
}

/** True when the TCP/UDP checksum of the whole IPv6 packet `p` verifies. */
function l4Valid(p: Uint8Array): boolean {
  return sum16(p.subarray(40), pseudo(p, p.length - 40, p[6]!)) === 0xffff;
}

const u16 = (p: Uint8Array, at: number): number => (p[at]! << 8) | p[at + 1]!;
const u32 = (p: Uint8Array, at: number): number => ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;

function payload(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

/** An IPv6 TCP packet: seq, flags, payload; checksum `csum` ('full' valid, 'partial' the pseudo sum only). */
function tcp(seq: number, flags: number, data: number[], csum: 'full' | 'partial' | 'bad' = 'full', sport = 0x9c40): Uint8Array {
  const l4 = 32 + data.length;
  const p = new Uint8Array(40 + l4);
  p.set([0x60, 0, 0, 0, l4 >> 8, l4 & 0xff, 6, 64, ...SRC, ...DST]);
  p.set([sport >> 8, sport & 0xff, 0x00, 0x50, seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff, 0, 0, 0x10, 0x01, 0x80, flags, 0x01, 0xf5, 0, 0, 0, 0, ...TCP_OPTIONS], 40);
  p.set(data, 72);
  const ps = pseudo(p, l4, 6);
  const field = csum === 'partial' ? ps : ~sum16(p.subarray(40), ps) & 0xffff;
  p[56] = field >> 8;
  p[57] = (field & 0xff) ^ (csum === 'bad' ? 1 : 0);
  return p;
}

/** An IPv6 UDP packet 5000 -> 5001 with a valid checksum (`zero`: checksum 0, which IPv6 forbids). */
function udp(data: number[], zero = false): Uint8Array {
  const l4 = 8 + data.length;
  const p = new Uint8Array(40 + l4);
  p.set([0x60, 0, 0, 0, l4 >> 8, l4 & 0xff, 17, 64, ...SRC, ...DST, 0x13, 0x88, 0x13, 0x89, l4 >> 8, l4 & 0xff, 0, 0]);
  p.set(data, 48);
  const c = zero ? 0 : ~sum16(p.subarray(40), pseudo(p, l4, 17)) & 0xffff || 0xffff;
  p[46] = c >> 8;
  p[47] = c & 0xff;
  return p;
}

/** virtio_net_hdr (10 bytes, little-endian) + packet. */
function frame(h: { flags: number; type: number; hdrLen: number; gso: number; start: number; offset: number }, p: Uint8Array): Uint8Array {
  const f = new Uint8Array(10 + p.length);
  const v = new DataView(f.buffer);
  f[0] = h.flags;
  f[1] = h.type;
  v.setUint16(2, h.hdrLen, true);
  v.setUint16(4, h.gso, true);
  v.setUint16(6, h.start, true);
  v.setUint16(8, h.offset, true);
  f.set(p, 10);
  return f;
}

function segment(f: Uint8Array): Uint8Array[] {
  const out = new Uint8Array(256 * 1024);
  const lens = new Int32Array(1024);
  const n = native.vnetSegment(f, out, new Uint8Array(lens.buffer));
  const packets: Uint8Array[] = [];
  for (let i = 0, at = 0; i < n; at += lens[i]!, i++) packets.push(out.slice(at, at + lens[i]!));
  return n < 0 ? [] : packets;
}

function coalesce(packets: Uint8Array[], kinds = MERGE_TCP | MERGE_UDP): Uint8Array[] {
  const data = new Uint8Array(packets.reduce((a, p) => a + p.length, 0));
  const lens = new Int32Array(packets.length);
  packets.forEach((p, i) => {
    data.set(p, lens.slice(0, i).reduce((a, l) => a + l, 0));
    lens[i] = p.length;
  });
  const out = new Uint8Array(data.length + packets.length * 200);
  const outLens = new Int32Array(packets.length);
  const n = native.vnetCoalesce(data, new Uint8Array(lens.buffer), packets.length, kinds, out, new Uint8Array(outLens.buffer));
  const writes: Uint8Array[] = [];
  for (let i = 0, at = 0; i < n; at += outLens[i]!, i++) writes.push(out.slice(at, at + outLens[i]!));
  return writes;
}

/** vnet.h VNET_MERGE_*: what the device takes merged. */
const MERGE_TCP = 1;
const MERGE_UDP = 2;
const PSH_ACK = 0x18;
const ACK = 0x10;
const MSS = 1208;

describe('vnetSegment: a TSO superframe (TCPV6, NEEDS_CSUM) cut into wire packets', () => {
  const data = payload(3000, 3);
  const superframe = frame({ flags: 1, type: 4, hdrLen: 72, gso: MSS, start: 40, offset: 16 }, tcp(0xfffffc00, PSH_ACK | 0x01, data, 'partial'));
  const segs = segment(superframe);

  it('gives ceil(3000 / 1208) = 3 packets of 1208, 1208 and 584 payload bytes, in order', () => {
    expect(segs.map((s) => s.length)).toEqual([72 + 1208, 72 + 1208, 72 + 584]);
    expect(segs.map((s) => u16(s, 4))).toEqual([32 + 1208, 32 + 1208, 32 + 584]); // IPv6 payload length
    expect(Buffer.concat(segs.map((s) => s.subarray(72)))).toEqual(Buffer.from(data));
  });

  it('numbers the segments (sequence wraps past 2^32) and keeps FIN/PSH for the last', () => {
    expect(segs.map((s) => u32(s, 44))).toEqual([0xfffffc00, 0xfffffc00 + 1208 - 2 ** 32, 0xfffffc00 + 2416 - 2 ** 32]);
    expect(segs.map((s) => s[53])).toEqual([ACK, ACK, PSH_ACK | 0x01]);
  });

  it('gives every segment a valid TCP checksum and the same IPv6 and TCP header otherwise', () => {
    for (const s of segs) {
      expect(l4Valid(s)).toBe(true);
      expect(s.subarray(6, 40)).toEqual(superframe.subarray(16, 50));
      expect(s.subarray(58, 72)).toEqual(superframe.subarray(68, 82));
    }
  });
});

describe('vnetSegment: other frames', () => {
  it('cuts a USO superframe (UDP_L4) with per-segment UDP length and checksum', () => {
    const data = payload(2500, 9);
    const p = new Uint8Array(48 + data.length);
    p.set([0x60, 0, 0, 0, (8 + data.length) >> 8, (8 + data.length) & 0xff, 17, 64, ...SRC, ...DST, 0x13, 0x88, 0x13, 0x89, 0, 0, 0, 0]);
    p.set(data, 48);
    const segs = segment(frame({ flags: 1, type: 5, hdrLen: 48, gso: 1000, start: 40, offset: 6 }, p));
    expect(segs.map((s) => u16(s, 44))).toEqual([1008, 1008, 508]); // UDP length
    expect(segs.map((s) => u16(s, 4))).toEqual([1008, 1008, 508]);
    for (const s of segs) expect(l4Valid(s)).toBe(true);
    expect(Buffer.concat(segs.map((s) => s.subarray(48)))).toEqual(Buffer.from(data));
  });

  it('completes the partial checksum of a single packet (NEEDS_CSUM, no GSO), bytes otherwise unchanged', () => {
    const p = tcp(1000, PSH_ACK, payload(500, 1), 'partial');
    const [out] = segment(frame({ flags: 1, type: 0, hdrLen: 0, gso: 0, start: 40, offset: 16 }, p));
    expect(l4Valid(out!)).toBe(true);
    expect(out!.subarray(58)).toEqual(p.subarray(58));
    expect(out!.subarray(0, 56)).toEqual(p.subarray(0, 56));
  });

  it('completes partial checksums whatever the length modulo 4 (the sum adds 4 bytes at a time, an odd last byte alone)', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 17, 1231]) {
      const p = udp(payload(n, n + 0x80));
      p[46] = 0;
      p[47] = 0;
      const ps = pseudo(p, p.length - 40, 17);
      p[46] = ps >> 8;
      p[47] = ps & 0xff;
      const [out] = segment(frame({ flags: 1, type: 0, hdrLen: 0, gso: 0, start: 40, offset: 6 }, p));
      expect(l4Valid(out!), `payload of ${n} bytes`).toBe(true);
    }
  });

  it('passes a plain frame through byte for byte, and refuses a GSO header that lies about the packet', () => {
    const p = tcp(1, ACK, payload(100, 2));
    expect(segment(frame({ flags: 0, type: 0, hdrLen: 0, gso: 0, start: 0, offset: 0 }, p))).toEqual([p]);
    const udpAsTcp = frame({ flags: 0, type: 5, hdrLen: 72, gso: 50, start: 40, offset: 16 }, p);
    expect(segment(udpAsTcp)).toEqual([]);
  });
});

describe('vnetCoalesce: TCP segments of one flow merged into one superframe write', () => {
  const data = payload(3000, 5);
  const segs = [tcp(7000, ACK, data.slice(0, MSS)), tcp(7000 + MSS, ACK, data.slice(MSS, 2 * MSS)), tcp(7000 + 2 * MSS, PSH_ACK, data.slice(2 * MSS))];

  it('writes one TCPV6 superframe: virtio header, one header with the total length and PSH, the payloads', () => {
    const [w, ...rest] = coalesce(segs);
    expect(rest).toEqual([]);
    const v = new DataView(w!.buffer, w!.byteOffset);
    expect([w![0], w![1], v.getUint16(2, true), v.getUint16(4, true), v.getUint16(6, true), v.getUint16(8, true)]).toEqual([1, 4, 72, MSS, 40, 16]);
    const ip = w!.subarray(10);
    expect(u16(ip, 4)).toBe(32 + 3000);
    expect(u32(ip, 44)).toBe(7000);
    expect(ip[53]).toBe(PSH_ACK);
    expect(u16(ip, 56)).toBe(pseudo(ip, 32 + 3000, 6)); // partial: the kernel completes it
    expect(ip.subarray(72)).toEqual(Uint8Array.from(data));
  });

  it('round-trips: the merged write cut again gives the original packets byte for byte', () => {
    expect(segment(coalesce(segs)[0]!)).toEqual(segs);
  });

  it('writes a damaged segment alone (its checksum must fail in the kernel), and stops at a gap or another flow', () => {
    const bad = [segs[0]!, tcp(7000 + MSS, ACK, data.slice(MSS, 2 * MSS), 'bad'), segs[2]!];
    expect(coalesce(bad).map((w) => w[1])).toEqual([0, 0, 0]);
    const gap = [segs[0]!, segs[2]!];
    expect(coalesce(gap).length).toBe(2);
    const other = tcp(7000 + MSS, ACK, data.slice(MSS, 2 * MSS), 'full', 0x9c41);
    expect(coalesce([segs[0]!, other]).length).toBe(2);
  });

  it('writes a lone packet behind a zero virtio header', () => {
    const [w] = coalesce([segs[2]!]);
    expect(w!.subarray(0, 10)).toEqual(new Uint8Array(10));
    expect(w!.subarray(10)).toEqual(segs[2]);
  });
});

describe('vnetCoalesce: UDP datagrams of one flow merged into one UDP_L4 superframe (devices with USO)', () => {
  const data = payload(4300, 11);
  const grams = [0, 1, 2, 3].map((i) => udp(data.slice(i * 1000, i * 1000 + 1000))).concat([udp(data.slice(4000))]);

  it('writes one superframe: UDP_L4 virtio header, total UDP length, partial checksum, the payloads', () => {
    const [w, ...rest] = coalesce(grams);
    expect(rest).toEqual([]);
    const v = new DataView(w!.buffer, w!.byteOffset);
    expect([w![0], w![1], v.getUint16(2, true), v.getUint16(4, true), v.getUint16(6, true), v.getUint16(8, true)]).toEqual([1, 5, 48, 1000, 40, 6]);
    const ip = w!.subarray(10);
    expect([u16(ip, 4), u16(ip, 44)]).toEqual([8 + 4300, 8 + 4300]);
    expect(u16(ip, 46)).toBe(pseudo(ip, 8 + 4300, 17));
    expect(segment(w!)).toEqual(grams);
  });

  it('merges no UDP where the device has no USO, and never a datagram without a checksum', () => {
    expect(coalesce(grams, MERGE_TCP).length).toBe(5);
    expect(coalesce([grams[0]!, udp(data.slice(1000, 2000), true), grams[2]!]).length).toBe(3);
  });
});
