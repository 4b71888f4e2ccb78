// Listener table: first/last seen, count, stale after the configured time, back after stale, known vs unknown
// against the allow list, drops counted by reason, bounded table with eviction; plus the allow-list parser.
import { describe, expect, it } from 'vitest';
import { LISTENER_DROP_REASONS, RasAdvListenerTable, type AdvertisementEvent, type ListenerSink, type ServerEntry } from '../../src/engine/rasadv/listener.js';
import { AllowListError, allowListSize, isAllowed, parseAllowList } from '../../src/engine/rasadv/allow.js';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const INTERVAL = 3_600_000;
const adv = (hostname: string, domain?: string) => encodeRasAdv({ hostname, ...(domain === undefined ? {} : { domain }) });
const allow = (text: string) => parseAllowList([{ text, origin: '--allow' }]);

/** What the table wrote into its sink, the servers copied at the time of the call (they are lent). */
type Out =
  | { kind: 'advertisement'; event: AdvertisementEvent; server: ServerEntry }
  | { kind: 'stale' | 'evicted'; server: ServerEntry }
  | { kind: 'drop'; reason: string };

function recorder(): ListenerSink & { out: Out[] } {
  const out: Out[] = [];
  return {
    out,
    drop: (reason) => void out.push({ kind: 'drop', reason: LISTENER_DROP_REASONS[reason]! }),
    advertisement: (event, server) => void out.push({ kind: 'advertisement', event, server: { ...server } }),
    stale: (server) => void out.push({ kind: 'stale', server: { ...server } }),
    evicted: (server) => void out.push({ kind: 'evicted', server: { ...server } }),
  };
}

/** One datagram from ip:50000 at `now`, its payload in the middle of a larger (lent) buffer; returns the sink calls. */
function handle(t: RasAdvListenerTable, ip: string, payload: Uint8Array, now: number): Out[] {
  const buf = new Uint8Array(payload.length + 7).fill(0x41);
  buf.set(payload, 3);
  const sink = recorder();
  t.datagram(buf, 3, payload.length, parseIpv4(ip), 50_000, now, sink);
  buf.fill(0x42); // the bytes are lent: the table must not have kept them
  return sink.out;
}
const timeout = (t: RasAdvListenerTable, now: number): Out[] => {
  const sink = recorder();
  t.handleTimeout(now, sink);
  return sink.out;
};
const kinds = (out: Out[]) => out.map((o) => (o.kind === 'advertisement' ? `${o.kind}:${o.event}` : o.kind));

describe('rasadv listener table', () => {
  it('records a new server, then counts repeats with first and last seen', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 2 * INTERVAL });
    const [first] = handle(t, '192.0.2.10', adv('thepcsname'), 100);
    expect(first).toMatchObject({ kind: 'advertisement', event: 'new', server: { hostname: 'thepcsname', sender: parseIpv4('192.0.2.10'), count: 1, firstSeen: 100, lastSeen: 100, stale: false, known: false } });
    const [again] = handle(t, '192.0.2.10', adv('thepcsname'), 100 + INTERVAL);
    expect(again).toMatchObject({ event: 'again', server: { count: 2, firstSeen: 100, lastSeen: 100 + INTERVAL } });
    expect(t.servers()).toHaveLength(1);
  });

  it('keys entries by sender and host name; a Domain change is reported as changed', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 2 * INTERVAL });
    handle(t, '192.0.2.10', adv('a'), 0);
    expect(kinds(handle(t, '192.0.2.11', adv('a'), 1))).toEqual(['advertisement:new']);
    expect(kinds(handle(t, '192.0.2.10', adv('b'), 2))).toEqual(['advertisement:new']);
    const [c] = handle(t, '192.0.2.10', adv('a', 'EARTH.COM'), 3);
    expect(c).toMatchObject({ event: 'changed', server: { domain: 'EARTH.COM', count: 2 } });
    expect(t.stats()).toMatchObject({ servers: 3, accepted: 4 });
  });

  it('marks a server stale after staleAfter without advertisements, then back when heard again', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 2 * INTERVAL });
    handle(t, '192.0.2.10', adv('h'), 0);
    handle(t, '192.0.2.10', adv('h'), INTERVAL);
    expect(t.nextTimeout()).toBe(3 * INTERVAL);
    expect(timeout(t, 3 * INTERVAL - 1)).toEqual([]);
    const [s] = timeout(t, 3 * INTERVAL);
    expect(s).toMatchObject({ kind: 'stale', server: { hostname: 'h', stale: true, lastSeen: INTERVAL } });
    expect(t.nextTimeout()).toBeUndefined();
    expect(timeout(t, 10 * INTERVAL)).toEqual([]);
    expect(t.stats().stale).toBe(1);
    const [b] = handle(t, '192.0.2.10', adv('h'), 10 * INTERVAL);
    expect(b).toMatchObject({ event: 'back', server: { stale: false, count: 3 } });
    expect(t.nextTimeout()).toBe(12 * INTERVAL);
  });

  it('nextTimeout follows the least recently heard fresh server', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 1000 });
    handle(t, '192.0.2.1', adv('a'), 0);
    handle(t, '192.0.2.2', adv('b'), 500);
    handle(t, '192.0.2.1', adv('a'), 700);
    expect(t.nextTimeout()).toBe(1500);
    expect(timeout(t, 1500).map((o) => (o.kind === 'stale' ? o.server.hostname : ''))).toEqual(['b']);
    expect(t.nextTimeout()).toBe(1700);
  });

  it('judges servers against the allow list by name, FQDN or address', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL, allow: allow('THEPCSNAME, rras.example.com 198.51.100.0/24') });
    const known = (ip: string, h: string, d?: string) => {
      const o = handle(t, ip, adv(h, d), 0).find((x) => x.kind === 'advertisement');
      return o?.kind === 'advertisement' ? o.server.known : undefined;
    };
    expect(known('192.0.2.1', 'thepcsname')).toBe(true);
    expect(known('192.0.2.2', 'rras', 'Example.COM')).toBe(true);
    expect(known('192.0.2.3', 'rras')).toBe(false);
    expect(known('198.51.100.77', 'anything')).toBe(true);
    expect(known('192.0.2.4', 'rogue')).toBe(false);
    expect(t.stats().unknown).toBe(2);
  });

  it('a new allow list judges every server again and reports the verdicts that changed', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL, allow: allow('a') });
    handle(t, '192.0.2.1', adv('a'), 0);
    handle(t, '192.0.2.2', adv('b'), 0);
    handle(t, '192.0.2.3', adv('c'), 0);
    const changed = t.setAllowList(allow('b c'));
    expect(changed.map((s) => [s.hostname, s.known])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
    ]);
    expect(t.setAllowList(allow('b c'))).toEqual([]);
    expect(t.setAllowList(undefined).map((s) => s.hostname)).toEqual(['b', 'c']);
    expect(t.stats().unknown).toBe(3);
  });

  it('without an allow list every server is unknown', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL });
    handle(t, '192.0.2.1', adv('a'), 0);
    expect(t.stats().unknown).toBe(1);
  });

  it('drops what does not decode, counted by reason, without touching the table', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL });
    const out = [
      ...handle(t, '192.0.2.1', new Uint8Array(0), 0),
      ...handle(t, '192.0.2.1', Uint8Array.of(1, 2, 3, 0xff), 0),
      ...handle(t, '192.0.2.1', new TextEncoder().encode('Domain=x\n\0'), 0),
      ...handle(t, '192.0.2.1', new TextEncoder().encode('Hostname=ok'), 0),
    ];
    expect(out.map((o) => (o.kind === 'drop' ? o.reason : o.kind))).toEqual(['empty-message', 'malformed-text', 'not-rasadv', 'advertisement']);
    expect(t.stats()).toEqual({ accepted: 1, servers: 1, stale: 0, unknown: 1 });
    expect(t.dropReasons).toEqual(['empty-message', 'malformed-text', 'not-rasadv', 'text-too-long', 'too-many-lines', 'hostname-too-long', 'domain-too-long']);
    const ok = out[3];
    expect(ok?.kind === 'advertisement' && ok.server.deviations).toEqual(['no-nul', 'no-final-newline']);
  });

  it('is bounded: a new server evicts the least recently heard one', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL, maxEntries: 2 });
    handle(t, '192.0.2.1', adv('a'), 0);
    handle(t, '192.0.2.2', adv('b'), 1);
    handle(t, '192.0.2.1', adv('a'), 2);
    const out = handle(t, '192.0.2.3', adv('c'), 3);
    expect(out.map((o) => (o.kind === 'advertisement' || o.kind === 'evicted' ? `${o.kind}:${o.server.hostname}` : o.kind))).toEqual(['evicted:b', 'advertisement:c']);
    expect(t.servers().map((s) => s.hostname)).toEqual(['a', 'c']);
  });

  // RFC 1035 §2.3.4: a label is at most 63 octets, a name 255 on the wire (253 characters of text).
  it('drops, by named reason, advertisements whose names or text exceed what DNS and [MS-RASA] allow', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL });
    const enc = (s: string) => new TextEncoder().encode(s);
    const reasons = (ip: string, payload: Uint8Array) => handle(t, ip, payload, 0).map((o) => (o.kind === 'drop' ? o.reason : o.kind));
    expect(reasons('192.0.2.1', enc(`Hostname=${'h'.repeat(63)}\nDomain=${'d'.repeat(253)}\n\0`))).toEqual(['advertisement']);
    expect(reasons('192.0.2.2', enc(`Hostname=${'h'.repeat(64)}\n\0`))).toEqual(['hostname-too-long']);
    expect(reasons('192.0.2.3', enc(`Hostname=h\nDomain=${'d'.repeat(254)}\n\0`))).toEqual(['domain-too-long']);
    // 63 bytes of UTF-8 pass (31 two-byte characters and one byte), 64 do not: the bound is in bytes.
    expect(reasons('192.0.2.4', enc(`Hostname=${'é'.repeat(31)}x\n\0`))).toEqual(['advertisement']);
    expect(reasons('192.0.2.5', enc(`Hostname=${'é'.repeat(32)}\n\0`))).toEqual(['hostname-too-long']);
    // Only the first Hostname / Domain line is kept, so only its length counts.
    expect(reasons('192.0.2.6', enc(`Hostname=h\nHostname=${'h'.repeat(64)}\n\0`))).toEqual(['advertisement']);
    // 8 lines at most; 512 bytes of text before the NUL at most (a 60,000-byte domain never reaches the name check).
    const lines = (n: number) => enc(`Hostname=h\n${'k=v\n'.repeat(n - 1)}\0`);
    expect(reasons('192.0.2.7', lines(8))).toEqual(['advertisement']);
    expect(reasons('192.0.2.8', lines(9))).toEqual(['too-many-lines']);
    expect(reasons('192.0.2.9', enc(`Hostname=h\nk=${'v'.repeat(498)}\n\0`))).toEqual(['advertisement']); // 11 + 501 = 512
    expect(reasons('192.0.2.10', enc(`Hostname=h\nk=${'v'.repeat(499)}\n\0`))).toEqual(['text-too-long']);
    expect(reasons('192.0.2.11', enc(`Hostname=h\nDomain=${'d'.repeat(60_000)}\n\0`))).toEqual(['text-too-long']);
    expect(t.servers().map((s) => s.sender)).toEqual(['192.0.2.1', '192.0.2.4', '192.0.2.6', '192.0.2.7', '192.0.2.9'].map(parseIpv4));
    expect(t.stats()).toEqual({ accepted: 5, servers: 5, stale: 0, unknown: 5 });
  });

  it('is bounded by bytes: each entry is charged 1024 + 2 per byte of text, the least recently heard evicted first', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL, maxBytes: 4096 });
    // "Hostname=a\n" is 11 bytes before the NUL: 1024 + 22 = 1046 bytes.
    const [first] = handle(t, '192.0.2.1', adv('a'), 0);
    expect(first).toMatchObject({ kind: 'advertisement', server: { bytes: 1046 } });
    handle(t, '192.0.2.2', adv('b'), 1);
    handle(t, '192.0.2.3', adv('c'), 2);
    expect(t.bytes()).toBe(3138);
    const who = (out: Out[]) => out.map((o) => (o.kind === 'advertisement' || o.kind === 'evicted' ? `${o.kind}:${o.server.hostname}` : o.kind));
    // A fourth would make 4184 > 4096: 'a' goes.
    expect(who(handle(t, '192.0.2.4', adv('d'), 3))).toEqual(['evicted:a', 'advertisement:d']);
    expect(t.bytes()).toBe(3138);
    // 'b' heard again at the bound, 512 bytes of text (11 + 8 + 253 + 1 + 2 + 237 + 1): 2048 bytes; beside 'c' and
    // 'd' that is 4140 > 4096, so 'c' goes (an entry that grows evicts others, never itself).
    const big = encodeRasAdv({ hostname: 'b', domain: 'd'.repeat(253), extra: [{ key: 'k', value: 'v'.repeat(237) }] });
    expect(who(handle(t, '192.0.2.2', big, 4))).toEqual(['evicted:c', 'advertisement:b']);
    expect(t.bytes()).toBe(3094);
    expect(who(handle(t, '192.0.2.5', adv('e'), 5))).toEqual(['evicted:d', 'advertisement:e']);
    expect(t.servers().map((s) => [s.hostname, s.bytes])).toEqual([
      ['b', 2048],
      ['e', 1046],
    ]);
    expect(t.bytes()).toBe(3094);
  });

  it('a forgotten server takes its stale deadline with it', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 1000, maxEntries: 1 });
    handle(t, '192.0.2.1', adv('a'), 0);
    handle(t, '192.0.2.2', adv('b'), 600);
    expect(t.nextTimeout()).toBe(1600);
    expect(timeout(t, 1000)).toEqual([]);
  });

  it('keeps one stale deadline per server: many servers go stale in the order they were last heard', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 1000 });
    for (let i = 0; i < 200; i++) handle(t, `192.0.2.${i % 250}`, adv(`h${i}`), (i * 37) % 500);
    for (let i = 0; i < 200; i += 2) handle(t, `192.0.2.${i % 250}`, adv(`h${i}`), 700); // heard again: moved later
    const stale = timeout(t, 1700).map((o) => (o.kind === 'stale' ? o.server : undefined)!);
    expect(stale).toHaveLength(200);
    const lastSeen = stale.map((s) => s.lastSeen);
    expect(lastSeen).toEqual([...lastSeen].sort((a, b) => a - b));
    expect(stale.slice(100).every((s) => s.lastSeen === 700)).toBe(true);
    expect(t.nextTimeout()).toBeUndefined();
  });

  it('validates its configuration', () => {
    expect(() => new RasAdvListenerTable({ staleAfterMs: 0 })).toThrow(RangeError);
    expect(() => new RasAdvListenerTable({ staleAfterMs: 1, maxEntries: 0 })).toThrow(RangeError);
    // Any advertisement must fit: 1024 + 2 x 512 bytes of text.
    expect(() => new RasAdvListenerTable({ staleAfterMs: 1, maxBytes: 2047 })).toThrow(RangeError);
    expect(() => new RasAdvListenerTable({ staleAfterMs: 1, maxBytes: 2048 })).not.toThrow();
  });
});

describe('rasadv allow list', () => {
  it('parses names, addresses and prefixes from several sources with comments', () => {
    const l = parseAllowList([
      { text: 'a,b 10.0.0.1', origin: '--allow' },
      { text: '# authorised RAS servers\nRRAS01   # the VPN box\n\n192.168.0.0/16\n', origin: 'allow.txt' },
    ]);
    expect([...l.names]).toEqual(['a', 'b', 'rras01']);
    // int32 like every IPv4 address here (src/wire/ipv4.ts): /32 is -1 (0xffffffff), /16 0xffff0000 | 0.
    expect(l.prefixes).toEqual([{ net: parseIpv4('10.0.0.1'), mask: -1 }, { net: parseIpv4('192.168.0.0'), mask: 0xffff0000 | 0 }]);
    expect(allowListSize(l)).toBe(5);
    expect(isAllowed(l, parseIpv4('192.168.4.5'), 'x', undefined)).toBe(true);
    expect(isAllowed(l, parseIpv4('10.0.0.2'), 'rras01', undefined)).toBe(true);
    expect(isAllowed(l, parseIpv4('10.0.0.2'), 'x', undefined)).toBe(false);
  });

  it('does not let an empty host name match', () => {
    expect(isAllowed(allow('a'), 0, '', 'a')).toBe(false);
  });

  it.each([
    ['300.1.1.1', 'not a valid IPv4'],
    ['10.0.0.0/33', 'over 32'],
    ['10.0.0.1/8', 'host bits'],
    ['bad/name', 'neither'],
  ])('rejects %j with its origin and line', (entry, message) => {
    expect(() => parseAllowList([{ text: `ok\n${entry}`, origin: 'f.txt' }])).toThrow(AllowListError);
    expect(() => parseAllowList([{ text: `ok\n${entry}`, origin: 'f.txt' }])).toThrow(`f.txt:2: `);
    expect(() => parseAllowList([{ text: entry, origin: 'x' }])).toThrow(message);
  });
});
