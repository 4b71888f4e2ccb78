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
import { teredoServer } from '../../agents/teredo-server/agent.js';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { startOnHost } from './host-harness.js';
import { formatTeredoServerStatus, type TeredoServerStatus } from '../../agents/teredo-server/status.js';
import type { RunningStatus } from '../../src/runtime/status.js';
import { FakeHost, fakeRoute } from '../fakes/fake-host.js';

function check(flags: Record<string, unknown>) {
  return validateConfig(serverSpec, { flags: { address: '198.18.0.10', ...flags } });
}

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
      facts: new FakeHost({ forwarding: { all: true }, routes: [fakeRoute('::/0', 'eth0')] }),
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
