// Listener table: first/last seen, count, stale after the configured time, back after stale, known vs unknown
// against the allow list, drops counted by reason, bounded table with eviction; plus the allow-list parser.
import { describe, expect, it } from 'vitest';
import { RasAdvListenerTable, type ListenerOutput } from '../../src/engine/rasadv/listener.js';
import { AllowListError, allowListSize, isAllowed, parseAllowList } from '../../src/engine/rasadv/allow.js';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const INTERVAL = 3_600_000;
const from = (ip: string, port = 50_000) => ({ addr: parseIpv4(ip), port });
const adv = (hostname: string, domain?: string) => encodeRasAdv({ hostname, ...(domain === undefined ? {} : { domain }) });
const dgram = (ip: string, payload: Uint8Array) => ({ kind: 'datagram' as const, from: from(ip), payload });
const allow = (text: string) => parseAllowList([{ text, origin: '--allow' }]);
const kinds = (out: ListenerOutput[]) => out.map((o) => (o.kind === 'advertisement' ? `${o.kind}:${o.event}` : o.kind));

describe('rasadv listener table', () => {
  it('records a new server, then counts repeats with first and last seen', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 2 * INTERVAL });
    const [first] = t.handle(dgram('192.0.2.10', adv('thepcsname')), 100);
    expect(first).toMatchObject({ kind: 'advertisement', event: 'new', server: { hostname: 'thepcsname', sender: parseIpv4('192.0.2.10'), count: 1, firstSeen: 100, lastSeen: 100, stale: false, known: false } });
    const [again] = t.handle(dgram('192.0.2.10', adv('thepcsname')), 100 + INTERVAL);
    expect(again).toMatchObject({ event: 'again', server: { count: 2, firstSeen: 100, lastSeen: 100 + INTERVAL } });
    expect(t.servers()).toHaveLength(1);
  });

  it('keys entries by sender and host name; a Domain change is reported as changed', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 2 * INTERVAL });
    t.handle(dgram('192.0.2.10', adv('a')), 0);
    expect(kinds(t.handle(dgram('192.0.2.11', adv('a')), 1))).toEqual(['advertisement:new']);
    expect(kinds(t.handle(dgram('192.0.2.10', adv('b')), 2))).toEqual(['advertisement:new']);
    const [c] = t.handle(dgram('192.0.2.10', adv('a', 'EARTH.COM')), 3);
    expect(c).toMatchObject({ event: 'changed', server: { domain: 'EARTH.COM', count: 2 } });
    expect(t.stats()).toMatchObject({ servers: 3, received: 4, accepted: 4 });
  });

  it('marks a server stale after staleAfter without advertisements, then back when heard again', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 2 * INTERVAL });
    t.handle(dgram('192.0.2.10', adv('h')), 0);
    t.handle(dgram('192.0.2.10', adv('h')), INTERVAL);
    expect(t.nextTimeout()).toBe(3 * INTERVAL);
    expect(t.handleTimeout(3 * INTERVAL - 1)).toEqual([]);
    const [s] = t.handleTimeout(3 * INTERVAL);
    expect(s).toMatchObject({ kind: 'stale', server: { hostname: 'h', stale: true, lastSeen: INTERVAL } });
    expect(t.nextTimeout()).toBeUndefined();
    expect(t.handleTimeout(10 * INTERVAL)).toEqual([]);
    expect(t.stats().stale).toBe(1);
    const [b] = t.handle(dgram('192.0.2.10', adv('h')), 10 * INTERVAL);
    expect(b).toMatchObject({ event: 'back', server: { stale: false, count: 3 } });
    expect(t.nextTimeout()).toBe(12 * INTERVAL);
  });

  it('nextTimeout follows the least recently heard fresh server', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: 1000 });
    t.handle(dgram('192.0.2.1', adv('a')), 0);
    t.handle(dgram('192.0.2.2', adv('b')), 500);
    t.handle(dgram('192.0.2.1', adv('a')), 700);
    expect(t.nextTimeout()).toBe(1500);
    expect(t.handleTimeout(1500).map((o) => (o.kind === 'stale' ? o.server.hostname : ''))).toEqual(['b']);
    expect(t.nextTimeout()).toBe(1700);
  });

  it('judges servers against the allow list by name, FQDN or address', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL, allow: allow('THEPCSNAME, rras.example.com 198.51.100.0/24') });
    const known = (ip: string, h: string, d?: string) => {
      const o = t.handle(dgram(ip, adv(h, d)), 0).find((x) => x.kind === 'advertisement');
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
    t.handle(dgram('192.0.2.1', adv('a')), 0);
    t.handle(dgram('192.0.2.2', adv('b')), 0);
    t.handle(dgram('192.0.2.3', adv('c')), 0);
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
    t.handle(dgram('192.0.2.1', adv('a')), 0);
    expect(t.stats().unknown).toBe(1);
  });

  it('drops what does not decode, counted by reason, without touching the table', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL });
    const out = [
      ...t.handle(dgram('192.0.2.1', new Uint8Array(0)), 0),
      ...t.handle(dgram('192.0.2.1', Uint8Array.of(1, 2, 3, 0xff)), 0),
      ...t.handle(dgram('192.0.2.1', new TextEncoder().encode('Domain=x\n\0')), 0),
      ...t.handle(dgram('192.0.2.1', new TextEncoder().encode('Hostname=ok')), 0),
    ];
    expect(out.map((o) => (o.kind === 'drop' ? o.reason : o.kind))).toEqual(['empty-message', 'malformed-text', 'not-rasadv', 'advertisement']);
    expect(t.stats()).toEqual({ received: 4, accepted: 1, dropped: { 'empty-message': 1, 'malformed-text': 1, 'not-rasadv': 1 }, servers: 1, stale: 0, unknown: 1 });
    const ok = out[3];
    expect(ok?.kind === 'advertisement' && ok.server.deviations).toEqual(['no-nul', 'no-final-newline']);
  });

  it('is bounded: a new server evicts the least recently heard one', () => {
    const t = new RasAdvListenerTable({ staleAfterMs: INTERVAL, maxEntries: 2 });
    t.handle(dgram('192.0.2.1', adv('a')), 0);
    t.handle(dgram('192.0.2.2', adv('b')), 1);
    t.handle(dgram('192.0.2.1', adv('a')), 2);
    const out = t.handle(dgram('192.0.2.3', adv('c')), 3);
    expect(out.map((o) => (o.kind === 'advertisement' || o.kind === 'evicted' ? `${o.kind}:${o.server.hostname}` : o.kind))).toEqual(['evicted:b', 'advertisement:c']);
    expect(t.servers().map((s) => s.hostname)).toEqual(['a', 'c']);
  });

  it('validates its configuration', () => {
    expect(() => new RasAdvListenerTable({ staleAfterMs: 0 })).toThrow(RangeError);
    expect(() => new RasAdvListenerTable({ staleAfterMs: 1, maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('rasadv allow list', () => {
  it('parses names, addresses and prefixes from several sources with comments', () => {
    const l = parseAllowList([
      { text: 'a,b 10.0.0.1', origin: '--allow' },
      { text: '# authorised RAS servers\nRRAS01   # the VPN box\n\n192.168.0.0/16\n', origin: 'allow.txt' },
    ]);
    expect([...l.names]).toEqual(['a', 'b', 'rras01']);
    expect(l.prefixes).toEqual([{ net: parseIpv4('10.0.0.1'), mask: 0xffffffff }, { net: parseIpv4('192.168.0.0'), mask: 0xffff0000 }]);
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
