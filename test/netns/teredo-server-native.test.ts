// teredo-server forwarding to native IPv6 by default (issue 8, item 8), in the lab: our server started as the
// systemd unit runs it (an unprivileged user holding CAP_NET_RAW and nothing else) and WITHOUT
// --forward-interface, in a server node whose IPv6 forwarding is off and that has no TUN device. Debian's
// Miredo client behind the port-restricted NAT qualifies against it and pings host6: the client's Echo
// Request (first its direct connectivity test, RFC 4380 §5.2.9) leaves our raw IPv6 socket with the client's
// Teredo source, host6 answers through Miredo's relay (its route to 2001::/32), and the relay's bubble reaches
// the client through us. That is how miredo-server works too. A server on a host without an IPv6 route says
// so once in its log and in status.

import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teredoServerStatus } from '../../lab/occupants/teredo-server-ours.js';
import { describeTeredo } from '../../lab/occupant-kit.js';
import { distFile } from '../../lab/paths.js';
import type { RunningStatus } from '../../src/runtime/status.js';
import type { TeredoServerStatus } from '../../agents/teredo-server/status.js';
import { ADDR, JsonLines, useLab } from './lab.js';

const lab = useLab();
const MAIN = distFile('agents/teredo-server/main.js');
/** What systemd/teredo-server.service grants: a dynamic (non-root) user, CAP_NET_RAW only, nothing to regain. */
const AS_THE_UNIT = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all,+net_raw', '--ambient-caps=-all,+net_raw', '--bounding-set=-all,+net_raw', '--no-new-privs'];
const CAP_NET_RAW = 1n << 13n;
/** An inet4 address no lab node holds, the probe's second server address for the no-route case. */
const PROBE2 = '198.18.0.31';

const children: ChildProcess[] = [];
function startServer(node: string, args: string[]): JsonLines {
  const child = lab.spawn(node, [...AS_THE_UNIT, process.execPath, MAIN, ...args, '--stats-interval', '0']);
  children.push(child);
  return new JsonLines(child);
}

async function stopServer(log: JsonLines): Promise<void> {
  if (log.child.exitCode !== null) return;
  const exited = new Promise((resolve) => log.child.once('exit', resolve));
  log.child.kill('SIGTERM');
  await exited;
}

async function status(node: string): Promise<RunningStatus<TeredoServerStatus>> {
  const s = await teredoServerStatus({ exec: (argv, o) => lab.exec(node, argv, o) });
  if (s?.lifecycle !== 'running') throw new Error(`no teredo-server answered status in ${node}`);
  return s;
}

let server: JsonLines;

beforeAll(async () => {
  // The plan's default; our TUN occupant turns it on, the raw socket does not need it.
  await lab.execOk('server', ['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=0']);
  server = startServer('server', ['--address', ADDR.server, '--secondary-address', ADDR.server2]);
  await waitForMsg(server, 'started');
  await lab.startOccupants([
    { role: 'relay', impl: 'miredo' },
    { role: 'client', impl: 'miredo', node: 'cli-prc' },
  ]);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

async function waitForMsg(log: JsonLines, msg: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = log.lines.find((l) => l.msg === msg);
    if (hit) return hit;
    if (log.child.exitCode !== null) throw new Error(`teredo-server exited before logging "${msg}": ${JSON.stringify(log.lines)}`);
    if (Date.now() > deadline) throw new Error(`teredo-server did not log "${msg}": ${JSON.stringify(log.lines)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('teredo-server without --forward-interface (raw IPv6 socket, CAP_NET_RAW only)', () => {
  it('runs with CAP_NET_RAW as its only capability, and says it forwards through the raw socket', async () => {
    const pid = server.child.pid!;
    const caps = (await lab.execOk('server', ['grep', 'CapEff', `/proc/${pid}/status`])).stdout;
    expect(BigInt(`0x${caps.split(/\s+/)[1]}`)).toBe(CAP_NET_RAW);
    expect(await waitForMsg(server, 'serving')).toMatchObject({ forwardInterface: null, nativeForwarding: 'raw' });
    expect(server.lines.filter((l) => l.msg === 'no ipv6 route')).toEqual([]); // the node has 2001:db8:6::/64
    expect(await status('server')).toMatchObject({ forwardInterface: null, nativeForwarding: 'raw', nativeIpv6Route: true });
  });

  it('a Miredo client behind the port-restricted NAT qualifies against it', async () => {
    const client = lab.occupants().find((o) => o.key === 'client@cli-prc')!;
    const s = await lab.occupantStatus(client);
    expect(s.state).toBe('qualified');
    expect(s.teredoAddress).toMatch(/^2001:0:c612:a:/);
    expect(describeTeredo(s.teredoAddress!).mapped).toMatch(/^198\.18\.0\.101:\d+$/);
  });

  it('the client pings host6: the Echo Requests leave our raw socket, the relay brings the replies', async () => {
    const before = await status('server');
    const r = await lab.exec('cli-prc', ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', ADDR.host6]);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    const after = await status('server');
    expect(after.forwarded.native - before.forwarded.native).toBeGreaterThanOrEqual(1);
    expect(after.forwarded.withOrigin).toBeGreaterThanOrEqual(1); // the relay's bubble, with origin indication
    // Nothing else carried them: no TUN device in the node, and the kernel does not forward IPv6 there.
    const links = (await lab.execOk('server', ['ip', '-o', 'link', 'show'])).stdout;
    expect(links).not.toMatch(/tun|teredo/);
    expect((await lab.execOk('server', ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim()).toBe('0');
    expect(server.lines.filter((l) => l.msg === 'i/o error')).toEqual([]);
  });
});

describe('on a host without an IPv6 route', () => {
  it('says so once in the log and in status', async () => {
    // The probe node has IPv4 only; give it a second address for the secondary socket.
    const inet4 = lab.iface('probe', 'inet4');
    await lab.execOk('probe', ['ip', 'addr', 'add', `${PROBE2}/24`, 'dev', inet4]);
    try {
      const probe = startServer('probe', ['--address', ADDR.probe]);
      await waitForMsg(probe, 'started');
      expect(probe.lines.filter((l) => l.msg === 'no ipv6 route')).toEqual([expect.objectContaining({ level: 'warn', nativeForwarding: 'raw' })]);
      expect(await status('probe')).toMatchObject({ nativeForwarding: 'raw', nativeIpv6Route: false });
      const human = await lab.execOk('probe', [process.execPath, MAIN, 'status']);
      expect(human.stdout).toContain('native IPv6 forwarding: raw (this host has no IPv6 route: such packets fail)');
      await stopServer(probe);
      expect(probe.child.exitCode).toBe(0);
    } finally {
      await lab.exec('probe', ['ip', 'addr', 'del', `${PROBE2}/24`, 'dev', inet4]);
    }
  });
});
