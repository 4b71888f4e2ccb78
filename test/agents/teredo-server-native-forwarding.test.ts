// teredo-server native forwarding (agents/teredo-server/native-forwarding.ts): which mode a config gives,
// what --check-config refuses, the "no IPv6 route" check over /proc/net/ipv6_route text, and what start-up
// logs and status show. The raw socket itself is tested against the kernel in test/netns/io-raw-ipv6.test.ts.

import { describe, expect, it } from 'vitest';
import { capturedLogger } from '../fakes/log-capture.js';
import type { NativeIpv6Sender } from '../../src/io/ports.js';
import { IoError } from '../../src/io/io-error.js';
import { AgentError } from '../../src/runtime/errors.js';
import { validateConfig } from '../../src/runtime/config.js';
import { engineParams, serverSpec } from '../../agents/teredo-server/config.js';
import { nativeForwardingMode, startNativeForwarding } from '../../agents/teredo-server/native-forwarding.js';
import { hasNativeIpv6Route } from '../../src/io/ipv6-routes.js';
import { teredoServer } from '../../agents/teredo-server/agent.js';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { startOnHost } from './host-harness.js';
import { formatTeredoServerStatus, type TeredoServerStatus } from '../../agents/teredo-server/status.js';
import type { RunningStatus } from '../../src/runtime/status.js';

function check(flags: Record<string, unknown>) {
  return validateConfig(serverSpec, { flags: { address: '198.18.0.10', ...flags } });
}

/** One /proc/net/ipv6_route line: dest/plen, next hop, flags, device. */
function route(dest: string, plen: number, flags: number, dev: string, metric = 0x100): string {
  const zero = '0'.repeat(32);
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return [dest, hex(plen, 2), zero, '00', zero, hex(metric, 8), '00000001', '00000000', hex(flags, 8), dev.padStart(8)].join(' ');
}
const UP = 0x1;
const GATEWAY = 0x2;
/** What the kernel lists in every namespace with IPv6: ::1 (local table) and the ::/0 reject route on lo. */
const ALWAYS = [route('00000000000000000000000000000001', 128, 0x80200001, 'lo', 0), route('0'.repeat(32), 0, 0x00200200, 'lo', 0xffffffff)];
const LINK_LOCAL = route('fe800000000000000000000000000000', 64, UP, 'eth0');

describe('nativeForwarding config', () => {
  it('defaults to raw without a forward interface and to tun with one; off turns forwarding off in the engine', () => {
    const raw = check({});
    const tun = check({ 'forward-interface': 'teredo' });
    const off = check({ 'native-forwarding': 'off' });
    expect(raw.ok && tun.ok && off.ok).toBe(true);
    if (!raw.ok || !tun.ok || !off.ok) return;
    expect([nativeForwardingMode(raw.config), nativeForwardingMode(tun.config), nativeForwardingMode(off.config)]).toEqual(['raw', 'tun', 'off']);
    expect([engineParams(raw.config).nativeForwarding, engineParams(tun.config).nativeForwarding, engineParams(off.config).nativeForwarding]).toEqual([true, true, false]);
  });

  it('refuses tun without a device, a device with raw or off, and unknown modes, naming the field', () => {
    expect(check({ 'native-forwarding': 'tun' })).toEqual({ ok: false, problems: ['nativeForwarding ("tun") needs forwardInterface, the name of the TUN device to create'] });
    expect(check({ 'native-forwarding': 'raw', 'forward-interface': 'teredo' })).toEqual({ ok: false, problems: ['forwardInterface ("teredo") is only used with nativeForwarding "tun", not "raw"'] });
    expect(check({ 'native-forwarding': 'off', 'forward-interface': 'teredo' }).ok).toBe(false);
    const bad = check({ 'native-forwarding': 'tap' });
    expect(bad.ok ? [] : bad.problems.join('\n')).toMatch(/nativeForwarding/);
  });
});

describe('hasNativeIpv6Route (/proc/net/ipv6_route)', () => {
  it('a default route counts, and so does the connected /64 of a global address (the lab server: no default route)', () => {
    expect(hasNativeIpv6Route([...ALWAYS, LINK_LOCAL, route('0'.repeat(32), 0, UP | GATEWAY, 'eth0', 1024)].join('\n'))).toBe(true);
    expect(hasNativeIpv6Route([...ALWAYS, LINK_LOCAL, route('20010db8000600000000000000000000', 64, UP, 'inet6')].join('\n'))).toBe(true);
    expect(hasNativeIpv6Route([...ALWAYS, route('20000000000000000000000000000000', 3, UP | GATEWAY, 'wan')].join('\n'))).toBe(true);
  });

  it('none: only loopback, reject routes, link-local, ULA, multicast, or the Teredo prefix (a relay\'s own TUN)', () => {
    expect(hasNativeIpv6Route(ALWAYS.join('\n'))).toBe(false);
    expect(hasNativeIpv6Route('')).toBe(false);
    const notNative = [
      ...ALWAYS,
      LINK_LOCAL,
      route('fd000000000000000000000000000000', 64, UP, 'eth0'),
      route('ff000000000000000000000000000000', 8, UP, 'eth0'),
      route('20010000000000000000000000000000', 32, UP, 'teredo'),
      route('20010db8000000000000000000000000', 32, UP | 0x200, 'lo'), // an unreachable route
      route('20010db8000700000000000000000001', 128, 0x80200001, 'eth0'), // a local address, table local
    ];
    expect(hasNativeIpv6Route(notNative.join('\n'))).toBe(false);
    expect(hasNativeIpv6Route('garbage\nfe80 40 x')).toBe(false);
  });
});

describe('startNativeForwarding', () => {
  const fakeSender = (): NativeIpv6Sender => ({ send: () => true, onError: () => undefined, close: () => undefined });

  it('raw: warns once when the host has no IPv6 route, and status shows it', () => {
    const log = capturedLogger('teredo-server test');
    const sender = fakeSender();
    let hasRoute = false;
    const nf = startNativeForwarding('raw', sender, log.logger, () => hasRoute);
    expect(nf.sender).toBe(sender);
    expect(log.lines.filter((l) => l.msg === 'no ipv6 route')).toEqual([expect.objectContaining({ level: 'warn', nativeForwarding: 'raw' })]);
    expect(nf.status()).toEqual({ nativeForwarding: 'raw', nativeIpv6Route: false });
    hasRoute = true; // a route that appears later shows in status (the warning is not repeated either way)
    expect(nf.status()).toEqual({ nativeForwarding: 'raw', nativeIpv6Route: true });
    expect(log.lines.filter((l) => l.msg === 'no ipv6 route')).toHaveLength(1);
  });

  it('with a route: no warning; off: no check', () => {
    const log = capturedLogger('teredo-server test');
    expect(startNativeForwarding('raw', fakeSender(), log.logger, () => true).status()).toEqual({ nativeForwarding: 'raw', nativeIpv6Route: true });
    const off = startNativeForwarding('off', undefined, log.logger, () => false);
    expect(off.status()).toEqual({ nativeForwarding: 'off', nativeIpv6Route: null });
    expect(log.lines.filter((l) => l.msg === 'no ipv6 route')).toEqual([]);
  });

  it('raw without CAP_NET_RAW: a start-up error (exit 1) that says what is missing and the alternatives, the sockets closed again', async () => {
    const eperm = new IoError('IO_RAW6_OPEN', 'cannot open a raw IPv6 socket (needs CAP_NET_RAW): socket(AF_INET6, SOCK_RAW, IPPROTO_RAW): Operation not permitted', 1);
    const r = validateConfig(serverSpec, { flags: { address: '198.18.0.10' } });
    if (!r.ok) throw new Error(r.problems.join('; '));
    const ports: FakeDatagramPort[] = [];
    const start = startOnHost(teredoServer, r.config, {
      facts: { nativeIpv6Route: () => true },
      openPort: (o) => Promise.resolve(ports[ports.push(new FakeDatagramPort({ addr: o.address ?? 0, port: o.port ?? 0 })) - 1]!),
      openRaw6: () => {
        throw eperm;
      },
    });
    await expect(start).rejects.toThrow(AgentError);
    await expect(start).rejects.toThrow(expect.objectContaining({ code: 'IO_RAW_SOCKET', message: expect.stringMatching(/CAP_NET_RAW.*--native-forwarding off/) }));
    expect(ports.map((p) => p.closed)).toEqual([true, true]);
  });
});

describe('status', () => {
  const base: RunningStatus<TeredoServerStatus> = {
    agent: 'teredo-server', pid: 1, instance: null, uptimeSec: 5, reloads: 0, lifecycle: 'running',
    addresses: { primary: '198.18.0.10:3544', secondary: '198.18.0.11:3544' }, prefix: '2001:0:c612:a::/64', mtu: 1280,
    forwardInterface: null, nativeForwarding: 'raw', nativeIpv6Route: true, forwardIcmpv6MaxPayload: 88, allowNonGlobal: false,
    rsAnswered: { primary: 0, secondary: 0 }, raSent: { primary: 0, secondary: 0 }, raWithNonce: 0,
    forwarded: { teredo: 0, withOrigin: 0, native: 0, fromTun: 0 }, drops: {}, ioErrors: {},
    driver: { batches: 0, timeouts: 0, errors: 0 },
  };

  it('shows the mode, and the missing route when there is none', () => {
    expect(formatTeredoServerStatus(base)).toContain('native IPv6 forwarding: raw');
    expect(formatTeredoServerStatus({ ...base, nativeIpv6Route: false })).toContain('native IPv6 forwarding: raw (this host has no IPv6 route: such packets fail)');
    expect(formatTeredoServerStatus({ ...base, nativeForwarding: 'off', nativeIpv6Route: null })).toContain('native IPv6 forwarding: off');
  });
});
