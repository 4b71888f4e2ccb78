// teredo-server in the lab (issue 4 "Tests"): Debian's Miredo client behind the port-restricted NAT qualifies
// against our server and reaches host6 through it (the direct connectivity test goes out our TUN device);
// tshark decodes our RA with origin indication and echoed nonce; a cone-bit RS is answered from the secondary
// address and only the full-cone NAT lets that answer in; hostile packets are dropped and counted while the
// server keeps answering; and the process-level behaviour (status, refusals, SIGHUP, SIGTERM).
//
// Crafted datagrams are sent by a few lines of node:dgram run inside a node (SENDER below), so they cross the
// lab's real NATs; their bytes come from the wire codecs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { teredoServerStatus } from '../../lab/occupants/teredo-server-ours.js';
import type { RunningStatus } from '../../src/runtime/status.js';
import type { TeredoServerStatus } from '../../agents/teredo-server/status.js';
import { distFile } from '../../lab/paths.js';
import { signalGroup } from '../../lab/processes.js';
import { hex } from '../../src/wire/bytes.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeTeredoAddress, TEREDO_CLIENT_LINK_LOCAL_CONE } from '../../src/wire/teredo-address.js';
import { bubble, datagram, rsDatagram } from '../engine/teredo-server-fixtures.js';
import { ADDR, NAT_SITES, expectMiredoClientQualifies, useLab } from './lab.js';

const lab = useLab();
const MAIN = distFile('agents/teredo-server/main.js');
const SERVER = `${ADDR.server}:3544`;
const capDir = mkdtempSync(join(tmpdir(), 'tsv-cap-'));
afterAll(() => rmSync(capDir, { recursive: true, force: true }));

/** Sends each hex payload from one UDP socket (port `bindPort`, 0 = any) and prints every reply as JSON. */
const SENDER = `
const dgram = require('node:dgram');
const [to, payloads, waitMs, bindAddr, bindPort] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => console.log(JSON.stringify({ from: r.address + ':' + r.port, hex: m.toString('hex') })));
s.bind({ port: Number(bindPort), address: bindAddr || undefined }, () => {
  const [addr, port] = to.split(':');
  for (const h of payloads.split(',')) s.send(Buffer.from(h, 'hex'), Number(port), addr);
  setTimeout(() => s.close(), Number(waitMs));
});`;

interface Reply {
  from: string;
  hex: string;
}

async function send(node: string, payloads: Uint8Array[], opts: { waitMs?: number; bindAddr?: string; bindPort?: number; to?: string } = {}): Promise<Reply[]> {
  const args = [opts.to ?? SERVER, payloads.map(hex).join(','), String(opts.waitMs ?? 800), opts.bindAddr ?? '', String(opts.bindPort ?? 0)];
  const r = await lab.execOk(node, [process.execPath, '-e', SENDER, ...args]);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Reply);
}

async function status(): Promise<RunningStatus<TeredoServerStatus>> {
  const s = await teredoServerStatus({ exec: (argv, o) => lab.exec('server', argv, o) });
  if (s?.lifecycle !== 'running') throw new Error('teredo-server did not answer status');
  return s;
}

describe('with Debian\'s Miredo client and relay', () => {
  it('a client behind the port-restricted NAT qualifies and gets an address under 2001:0:c612:a::/64', async () => {
    // 2001:0 + c612:000a = 198.18.0.10, the primary address; the mapping is the NAT's public address.
    await expectMiredoClientQualifies(lab, 'ours');
    const s = await status();
    expect(s.rsAnswered.primary).toBeGreaterThanOrEqual(1);
    expect(s.raWithNonce).toBeGreaterThanOrEqual(1);
  });

  it('the client pings host6: its Echo Request goes out our TUN device, the relay brings the reply', async () => {
    const before = await status();
    const r = await lab.exec('cli-prc', ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', ADDR.host6]);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    const after = await status();
    expect(after.forwarded.native - before.forwarded.native).toBeGreaterThanOrEqual(1);
    // The relay's bubble toward the client went through us with an origin indication (§5.2.9 / §5.4.1).
    expect(after.forwarded.withOrigin).toBeGreaterThanOrEqual(1);
  });
});

describe('on the wire', () => {
  it('tshark decodes our RA: origin indication = the RS source, nonce echoed with confirmation 0, our prefix', async () => {
    const pcap = join(capDir, 'ra.pcapng');
    const inet4 = lab.iface('server', 'inet4');
    const cap = lab.spawn('server', ['tshark', '-n', '-i', inet4, '-f', 'udp port 3544', '-a', 'duration:6', '-w', pcap]);
    const exited = new Promise<void>((resolve) => cap.on('exit', () => resolve()));
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tshark did not start: ${stderr}`)), 10_000);
      cap.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('Capturing on')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    // dumpcap says "Capturing on" a moment before its filter is attached: on a loaded machine packets sent at once
    // can be missed.
    await new Promise((r) => setTimeout(r, 1000));
    const nonce = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18);
    const replies = await send('probe', [rsDatagram({ auth: { clientId: new Uint8Array(0), authValue: new Uint8Array(0), nonce, confirmation: 0 } })], { bindPort: 45_678 });
    expect(replies.map((r) => r.from)).toEqual([SERVER]);
    await exited;

    const fields = ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'teredo.auth.nonce', 'teredo.auth.conf', 'teredo.orig.port', 'teredo.orig.addr', 'ipv6.src', 'ipv6.dst', 'icmpv6.type', 'icmpv6.opt.prefix', 'icmpv6.opt.mtu'];
    const r = await lab.execOk('server', ['tshark', '-n', '-r', pcap, '--enable-heuristic', 'teredo_udp', '-Y', 'icmpv6.type == 134 && udp.dstport == 45678', '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
    // Only the RA to this RS (the port it left from): a lab client of an earlier test may be refreshing meanwhile.
    const rows = r.stdout.trim().split('\n').map((l) => l.split('|'));
    expect(rows).toHaveLength(1);
    const ra = Object.fromEntries(fields.map((f, i) => [f, rows[0]![i]]));
    expect(ra).toMatchObject({
      'ip.src': ADDR.server,
      'udp.srcport': '3544',
      'ip.dst': ADDR.probe,
      'udp.dstport': '45678',
      'teredo.auth.nonce': 'a1b2c3d4e5f60718',
      'teredo.auth.conf': '00',
      'teredo.orig.port': '45678',
      'teredo.orig.addr': ADDR.probe,
      'ipv6.src': 'fe80::8000:f227:39ed:fff5',
      'ipv6.dst': 'fe80::ffff:ffff:ffff',
      'icmpv6.type': '134',
      'icmpv6.opt.prefix': '2001:0:c612:a::',
      'icmpv6.opt.mtu': '1280',
    });
  });

  it('a cone-bit RS is answered from the secondary address, which only the full-cone NAT lets in', async () => {
    const cone = rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE });
    // Earlier tests' clients left flows to the secondary address in the NAT; one whose public port our socket
    // happens to get would let the cone RA in. A NAT that has just seen nothing is what this test is about.
    await lab.execOk(site('port-restricted').nat, ['conntrack', '-F']);
    const before = await status();
    const viaFullCone = await send(site('full-cone').client, [cone]);
    const viaPortRestricted = await send(site('port-restricted').client, [cone], { waitMs: 1500 });
    const plain = await send(site('port-restricted').client, [rsDatagram()]);
    const after = await status();
    expect(viaFullCone.map((r) => r.from)).toEqual([`${ADDR.server2}:3544`]);
    expect(viaPortRestricted).toEqual([]); // sent (counted below), filtered by the NAT: not from where the RS went
    expect(plain.map((r) => r.from)).toEqual([SERVER]);
    expect(after.raSent.secondary - before.raSent.secondary).toBe(2);
    expect(after.rsAnswered.primary - before.rsAnswered.primary).toBe(3);
  });
});

describe('hostile and malformed datagrams', () => {
  it('are dropped and counted by reason, and the server keeps answering', async () => {
    const rs = rsDatagram();
    const badChecksum = rs.slice();
    badChecksum[badChecksum.length - 5] = badChecksum[badChecksum.length - 5]! ^ 0x55;
    const wrongLength = rs.slice();
    wrongLength[13 + 5] = 100; // IPv6 payload length 100, 8 bytes present
    const probe = parseIpv4(ADDR.probe);
    const spoofed = encodeTeredoAddress({ server: parseIpv4(ADDR.server), flags: 0, mappedPort: 1234, mappedAddr: parseIpv4('198.18.0.101') });
    const victim = encodeTeredoAddress({ server: parseIpv4(ADDR.server), flags: 0, mappedPort: 4000, mappedAddr: probe });
    const tcp = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.TCP, hopLimit: 64, src: parseIpv6('2001:db8:6::100'), dst: victim }, new Uint8Array(20));
    const hostile: Array<[string, Uint8Array]> = [
      ['server-case-1-not-teredo-ipv6', rs.subarray(0, 30)],
      ['server-case-1-not-teredo-ipv6', wrongLength],
      ['server-rs-bad-checksum', badChecksum],
      ['server-rs-hop-limit-not-255', rsDatagram({ hopLimit: 64 })],
      ['server-case-2-not-icmpv6-or-bubble', datagram(tcp)],
      ['server-case-7-spoofed-teredo-source', datagram(bubble(spoofed, victim))],
      ['server-case-7-destination-not-our-client', datagram(bubble(parseIpv6('2001:db8:6::100'), parseIpv6('2001:db8:6::200')))],
    ];
    const before = await status();
    const replies = await send('probe', [...hostile.map(([, b]) => b), rs], { waitMs: 1000 });
    // Only the valid RS at the end is answered.
    expect(replies.map((r) => r.from)).toEqual([SERVER]);

    // A non-global (RFC 1918) IPv4 source: give the probe a private address for the occasion.
    const inet4 = lab.iface('probe', 'inet4');
    await lab.execOk('probe', ['ip', 'addr', 'add', '10.66.0.30/32', 'dev', inet4]);
    let privateReplies: Reply[];
    try {
      await lab.execOk('server', ['ip', 'route', 'replace', '10.66.0.30/32', 'dev', lab.iface('server', 'inet4')]);
      privateReplies = await send('probe', [rs], { bindAddr: '10.66.0.30' });
    } finally {
      await lab.exec('probe', ['ip', 'addr', 'del', '10.66.0.30/32', 'dev', inet4]);
      await lab.exec('server', ['ip', 'route', 'del', '10.66.0.30/32']);
    }
    expect(privateReplies).toEqual([]);

    const after = await status();
    const delta = (reason: string): number => (after.drops[reason] ?? 0) - (before.drops[reason] ?? 0);
    const expected = new Map<string, number>();
    for (const [reason] of hostile) expected.set(reason, (expected.get(reason) ?? 0) + 1);
    expected.set('server-case-3-source-not-global', 1);
    for (const [reason, n] of expected) expect(delta(reason), reason).toBe(n);
    expect(after.rsAnswered.primary - before.rsAnswered.primary).toBe(1);
    expect(await send('probe', [rs])).toHaveLength(1);
  });
});

describe('the process', () => {
  it('`teredo-server status` in the server node finds the server of that namespace (table and --json)', async () => {
    const human = await lab.execOk('server', [process.execPath, MAIN, 'status']);
    expect(human.stdout).toMatch(/^teredo-server: running, pid \d+/);
    expect(human.stdout).toMatch(/primary\s+198\.18\.0\.10:3544\s+\d+\s+\d+/);
    expect(human.stdout).toContain('forward interface ' + lab.plan.tunName);
    const json = JSON.parse((await lab.execOk('server', [process.execPath, MAIN, 'status', '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ agent: 'teredo-server', lifecycle: 'running', addresses: { primary: SERVER, secondary: `${ADDR.server2}:3544` } });
    // Another namespace has no server: exit 3.
    const none = await lab.exec('probe', [process.execPath, MAIN, 'status']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no teredo-server running in this network namespace');
  });

  it('refuses to start on an address it cannot bind, a non-global address, or next to a running server', async () => {
    const secondaryMissing = await lab.exec('probe', [process.execPath, MAIN, '--address', ADDR.probe]);
    expect(secondaryMissing.code).toBe(1);
    expect(secondaryMissing.stderr).toContain('cannot bind UDP 198.18.0.31:3544 (secondary): address not available on this host');
    const nonGlobal = await lab.exec('probe', [process.execPath, MAIN, '--address', '192.168.50.1']);
    expect(nonGlobal.code).toBe(1);
    expect(nonGlobal.stderr).toContain('address ("192.168.50.1") is not global unicast');
    const twice = await lab.exec('server', [process.execPath, MAIN, '--address', ADDR.server]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('another teredo-server is already running in this network namespace');
    const ok = await lab.exec('probe', [process.execPath, MAIN, '--address', ADDR.probe, '--check-config']);
    expect([ok.code, ok.stdout]).toEqual([0, 'config ok\n']);
  });

  it('SIGHUP reloads, SIGTERM stops cleanly with the final counters logged', async () => {
    const rec = lab.occupants().find((o) => o.key === 'server@server')!;
    signalGroup(rec.proc, 'SIGHUP');
    let reloads = 0;
    for (let i = 0; i < 40 && reloads === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      reloads = (await teredoServerStatus({ exec: (argv, o) => lab.exec('server', argv, o) }))?.reloads ?? 0;
    }
    expect(reloads).toBe(1);
    await lab.stopOccupant(rec.key);
    const log = (await lab.execOk('server', ['cat', rec.logFile])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const msgs = log.map((l) => l.msg);
    expect(msgs).toContain('config reloaded');
    expect(msgs.slice(-3)).toEqual(['stopping', 'counters', 'stopped']);
    expect((await lab.exec('server', ['ip', 'link', 'show', lab.plan.tunName])).code).not.toBe(0);
  });
});

function site(kind: string) {
  const s = NAT_SITES.find((x) => x.kind === kind);
  if (!s) throw new Error(`no ${kind} NAT in the lab`);
  return s;
}
