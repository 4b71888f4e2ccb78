// teredo-relay in the lab (issue 10 "Tests"), with Debian's Miredo server and clients, then with ours: a client behind the
// port-restricted NAT reaches host6 through our relay with ping6; host6 starts a conversation with a client that
// never talked (the relay's bubble goes through the client's server); a datagram from inet4 with a forged
// Teredo source never reaches host6; pings to Teredo addresses embedding 127.0.0.1 or 10.0.0.1 put nothing on
// the IPv4 wire; the other NATs, a 10 MB TCP transfer checked at the far end, and a relay restart; the
// offloaded path (virtio-net TUN, UDP GSO/GRO) as the default and the plain path with offloads turned off.
//
// Captures use tshark in the node concerned, started before the action and stopped by its own duration, so a
// packet that should not exist is looked for in a real capture rather than inferred from counters alone.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTeredo } from '../../lab/occupant-kit.js';
import { teredoRelayStatus, RELAY_PORT } from '../../lab/occupants/teredo-relay-ours.js';
import { hex } from '../../src/wire/bytes.js';
import { echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { waitFor } from '../../lab/run.js';
import { ADDR, JsonLines, useLab, type Lab } from './lab.js';
import { TCP_RECEIVER, TCP_SENDER } from './tcp-transfer.js';

const lab = useLab();
const capDir = mkdtempSync(join(tmpdir(), 'trl-cap-'));
afterAll(() => rmSync(capDir, { recursive: true, force: true }));

interface RelayStatus {
  peers: number;
  trusted: number;
  toTeredo: { packets: number; bytes: number };
  toNative: { packets: number; bytes: number };
  bubblesSent: number;
  bubblesReceived: number;
  mappingsProved: number;
  drops: Record<string, number>;
}

async function relayStatus(): Promise<RelayStatus> {
  const s = await teredoRelayStatus({ exec: (argv, o) => lab.exec('relay', argv, o) });
  if (!s) throw new Error('teredo-relay did not answer status');
  return s as unknown as RelayStatus;
}

async function clientAddress(node: string): Promise<string> {
  const client = lab.occupants().find((o) => o.key === `client@${node}`)!;
  const status = await lab.occupantStatus(client);
  expect(status.state).toBe('qualified');
  return status.teredoAddress!;
}

/** Starts tshark on `node`'s interface for `seconds` with a capture filter; resolves once it captures. */
async function capture(l: Lab, node: string, iface: string, filter: string, seconds: number): Promise<{ done: Promise<string> }> {
  const pcap = join(capDir, `${node}-${Date.now()}.pcapng`);
  const cap = l.spawn(node, ['tshark', '-n', '-i', iface, '-f', filter, '-a', `duration:${seconds}`, '-w', pcap]);
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
  return { done: exited.then(() => pcap) };
}

/** One line per captured packet: the given tshark fields, '|'-separated. */
async function packets(l: Lab, node: string, pcap: string, fields: string[], displayFilter = ''): Promise<string[]> {
  const r = await l.execOk(node, ['tshark', '-n', '-r', pcap, ...(displayFilter ? ['-Y', displayFilter] : []), '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
  return r.stdout.split('\n').filter(Boolean);
}

/** Sends each hex payload as one UDP datagram from `node` to `to` (ip:port). */
const SENDER = `
const dgram = require('node:dgram');
const [to, payloads] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const [addr, port] = to.split(':');
let n = 0;
const list = payloads.split(',');
for (const h of list) s.send(Buffer.from(h, 'hex'), Number(port), addr, () => { if (++n === list.length) s.close(); });`;

describe('with Debian\'s Miredo server and a Miredo client behind the port-restricted NAT', () => {
  it('the client pings host6 through our relay', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'miredo' },
      { role: 'relay', impl: 'ours' },
      { role: 'client', impl: 'miredo', node: 'cli-prc' },
    ]);
    const addr = await clientAddress('cli-prc');
    expect(describeTeredo(addr).mapped).toMatch(/^198\.18\.0\.101:\d+$/);
    // The first Echo Request starts the client's direct IPv6 connectivity test (RFC 4380 §5.2.9): its reply
    // reaches the client through our relay's bubble (§5.4.1); then the client sends to the relay directly.
    await lab.exec('cli-prc', ['ping', '-6', '-c', '2', '-W', '3', ADDR.host6]);
    const r = await lab.exec('cli-prc', ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '5', ADDR.host6]);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    const s = await relayStatus();
    expect(s.toNative.packets).toBeGreaterThanOrEqual(3);
    expect(s.toTeredo.packets).toBeGreaterThanOrEqual(3);
    expect(s.trusted).toBeGreaterThanOrEqual(1);
    expect(s.bubblesSent).toBeGreaterThanOrEqual(1);
  });

  it('host6 starts the conversation with a client that never talked: the bubble goes through its server', async () => {
    await lab.startOccupants([{ role: 'client', impl: 'miredo', node: 'cli-prc2' }]);
    const addr = await clientAddress('cli-prc2');
    const before = await relayStatus();
    const r = await lab.exec('host6', ['ping', '-6', '-c', '3', '-i', '0.5', '-W', '5', addr]);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    const after = await relayStatus();
    expect(after.bubblesSent).toBeGreaterThan(before.bubblesSent);
    expect(after.bubblesReceived).toBeGreaterThan(before.bubblesReceived);
  });

  it('a datagram from inet4 with a forged Teredo source does not reach host6', async () => {
    const victim = parseIpv6(await clientAddress('cli-prc'));
    const marker = Uint8Array.from('forged-teredo-source', (c) => c.charCodeAt(0));
    const forged = encodeIcmpv6Packet({ src: victim, dst: parseIpv6(ADDR.host6), hopLimit: 64 }, echoMessage(128, { id: 0x7777, seq: 1, data: marker }));
    const before = await relayStatus();
    const cap = await capture(lab, 'host6', lab.iface('host6', 'inet6'), 'icmp6', 3);
    await lab.execOk('probe', [process.execPath, '-e', SENDER, `${ADDR.relay}:${RELAY_PORT}`, [forged, forged, forged].map(hex).join(',')]);
    const pcap = await cap.done;
    expect(await packets(lab, 'host6', pcap, ['ipv6.src'], `icmpv6.echo.identifier == 0x7777`)).toEqual([]);
    const after = await relayStatus();
    expect((after.drops['relay-udp-spoofed-source'] ?? 0) - (before.drops['relay-udp-spoofed-source'] ?? 0)).toBe(3);
  });

  it('host6 learns by ICMPv6 that a Teredo address nobody answers for is unreachable, after 4 bubbles', async () => {
    // 198.18.0.250 is global and on inet4, but no client holds it: the bubbles through the server go nowhere.
    const target = formatIpv6(encodeTeredoAddress({ server: parseIpv4(ADDR.server), mappedPort: 40000, mappedAddr: parseIpv4('198.18.0.250') }));
    const r = await lab.exec('host6', ['ping', '-6', '-n', '-c', '1', '-W', '15', target], { timeoutMs: 30_000 });
    expect(r.stdout).toContain(`From ${ADDR.relay6} icmp_seq=1 Destination unreachable: Address unreachable`);
    const s = await relayStatus();
    expect(s.drops['relay-queue-given-up']).toBeGreaterThanOrEqual(1);
  });

  for (const embedded of ['127.0.0.1', '10.0.0.1']) {
    it(`a ping6 from host6 to a Teredo address embedding ${embedded} puts nothing on the IPv4 wire`, async () => {
      const target = formatIpv6(encodeTeredoAddress({ server: parseIpv4(ADDR.server), mappedPort: 40000, mappedAddr: parseIpv4(embedded) }));
      const before = await relayStatus();
      const cap = await capture(lab, 'relay', lab.iface('relay', 'inet4'), `udp and src host ${ADDR.relay}`, 4);
      await lab.exec('host6', ['ping', '-6', '-c', '3', '-i', '0.3', '-W', '1', target]);
      const pcap = await cap.done;
      expect(await packets(lab, 'relay', pcap, ['ip.dst', 'udp.dstport'])).toEqual([]);
      const after = await relayStatus();
      expect((after.drops['relay-tun-mapping-not-global'] ?? 0) - (before.drops['relay-tun-mapping-not-global'] ?? 0)).toBe(3);
    });
  }
});

describe('the other NATs', () => {
  for (const node of ['cli-fc', 'cli-arc', 'cli-sym']) {
    it(`a Miredo client at ${node} pings host6 through our relay, and host6 pings it back`, async () => {
      await lab.startOccupants([{ role: 'client', impl: 'miredo', node }]);
      const addr = await clientAddress(node);
      const before = await relayStatus();
      await lab.exec(node, ['ping', '-6', '-c', '2', '-W', '3', ADDR.host6]);
      const out = await lab.exec(node, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '5', ADDR.host6]);
      expect(out.stdout, JSON.stringify(await relayStatus())).toMatch(/3 packets transmitted, 3 received/);
      const back = await lab.exec('host6', ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '5', addr]);
      expect(back.stdout, JSON.stringify(await relayStatus())).toMatch(/3 packets transmitted, 3 received/);
      // Behind the symmetric NAT the client's mapping toward the relay is not the one in its address: only the
      // bubble carrying the relay's nonce can make it trusted.
      const proved = (await relayStatus()).mappingsProved - before.mappingsProved;
      expect(proved).toBe(node === 'cli-sym' ? 1 : 0);
    });
  }
});

describe('bulk traffic and restarts', () => {
  const TEN_MB = 10 * 1024 * 1024;

  it('a 10 MB TCP transfer from the port-restricted client to host6 arrives intact', async () => {
    const receiver = new JsonLines(lab.spawn('host6', [process.execPath, '-e', TCP_RECEIVER, ADDR.host6, '5001']));
    await receiver.next('listening');
    const sent = await lab.execOk('cli-prc', [process.execPath, '-e', TCP_SENDER, ADDR.host6, '5001', String(TEN_MB)], { timeoutMs: 120_000 });
    const got = await receiver.next('bytes', 30_000);
    const s = JSON.parse(sent.stdout.trim()) as { sent: number; sha256: string };
    expect(got).toEqual({ bytes: TEN_MB, sha256: s.sha256 });
  });

  it('a 10 MB TCP transfer from host6 to the port-restricted client arrives intact', async () => {
    const addr = await clientAddress('cli-prc');
    const receiver = new JsonLines(lab.spawn('cli-prc', [process.execPath, '-e', TCP_RECEIVER, addr, '5002']));
    await receiver.next('listening');
    const sent = await lab.execOk('host6', [process.execPath, '-e', TCP_SENDER, addr, '5002', String(TEN_MB)], { timeoutMs: 120_000 });
    const got = await receiver.next('bytes', 30_000);
    const s = JSON.parse(sent.stdout.trim()) as { sent: number; sha256: string };
    expect(got).toEqual({ bytes: TEN_MB, sha256: s.sha256 });
  });

  it("after the relay is killed and restarted, a client's running ping6 gets replies again", async () => {
    // One ping process for the whole test (until SIGINT), so the client keeps its peer state and its flow.
    const ping = lab.spawn('cli-prc', ['ping', '-6', '-n', '-i', '0.1', '-W', '1', ADDR.host6]);
    let out = '';
    ping.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const done = new Promise<void>((resolve) => ping.on('exit', () => resolve()));
    // Echo replies only ("64 bytes from ... icmp_seq=N"): an ICMPv6 error names its icmp_seq too.
    const lastReply = (): number => Math.max(0, ...[...out.matchAll(/bytes from .* icmp_seq=(\d+) /g)].map((m) => Number(m[1])));
    try {
      await waitFor('replies through the relay', async () => (lastReply() >= 20 ? true : undefined), 60_000);
      await lab.stopOccupant('relay@relay');
      await lab.startOccupants([{ role: 'relay', impl: 'ours' }]);
      // The old relay is gone: a reply to a later echo than any answered so far came through the new one.
      const beforeRestart = lastReply();
      await waitFor('a reply through the restarted relay', async () => (lastReply() > beforeRestart ? true : undefined), 60_000);
    } finally {
      ping.kill('SIGINT');
      await done;
    }
    expect((await relayStatus()).toNative.packets).toBeGreaterThan(0);
  });
});

describe('with our server and our clients behind every NAT', () => {
  it('each of our clients pings host6 through our relay and is pinged back; 10 MB both ways from the port-restricted one', async () => {
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
    const nodes = ['cli-prc', 'cli-fc', 'cli-arc', 'cli-sym'];
    await lab.startOccupants([{ role: 'server', impl: 'ours' }, { role: 'relay', impl: 'ours' }, ...nodes.map((node) => ({ role: 'client' as const, impl: 'ours', node }))]);
    for (const node of nodes) {
      const addr = await clientAddress(node);
      await lab.exec(node, ['ping', '-6', '-c', '2', '-W', '3', ADDR.host6]); // relay discovery and bubbles
      const out = await lab.exec(node, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '5', ADDR.host6]);
      expect(out.stdout, `${node} -> host6 ${JSON.stringify(await relayStatus())}`).toMatch(/3 packets transmitted, 3 received/);
      const back = await lab.exec('host6', ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '5', addr]);
      expect(back.stdout, `host6 -> ${node}`).toMatch(/3 packets transmitted, 3 received/);
    }
    expect(await vnetHeaders()).toEqual({ relay: true, client: true }); // the offloaded path is the default
    await tenMegabytesBothWays('5003', '5004');
  });
});

/** 10 MB over TCP cli-prc -> host6 and back, each checked by its SHA-256 at the receiver. */
async function tenMegabytesBothWays(portOut: string, portBack: string): Promise<void> {
  const TEN_MB = 10 * 1024 * 1024;
  const addr = await clientAddress('cli-prc');
  for (const [from, to, host, port] of [['cli-prc', 'host6', ADDR.host6, portOut], ['host6', 'cli-prc', addr, portBack]] as const) {
    const receiver = new JsonLines(lab.spawn(to, [process.execPath, '-e', TCP_RECEIVER, host, port]));
    await receiver.next('listening');
    const sent = await lab.execOk(from, [process.execPath, '-e', TCP_SENDER, host, port, String(TEN_MB)], { timeoutMs: 120_000 });
    const got = await receiver.next('bytes', 30_000);
    expect(got, `${from} -> ${to}`).toEqual({ bytes: TEN_MB, sha256: (JSON.parse(sent.stdout.trim()) as { sha256: string }).sha256 });
  }
}

/** Whether the TUN devices of the relay and of the client at cli-prc carry virtio-net headers (ip -d: vnet_hdr). */
async function vnetHeaders(): Promise<{ relay: boolean; client: boolean }> {
  const on = async (node: string) => /vnet_hdr on/.test((await lab.execOk(node, ['ip', '-d', 'link', 'show', 'type', 'tun'])).stdout);
  return { relay: await on('relay'), client: await on('cli-prc') };
}

describe('the plain path (issue 18): our agents with TEREDO_TUN_OFFLOAD=0 and TEREDO_UDP_OFFLOAD=0', () => {
  it('a TUN device without IFF_VNET_HDR and sockets without GSO/GRO still carry 10 MB both ways intact', async () => {
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
    const saved = { tun: process.env['TEREDO_TUN_OFFLOAD'], udp: process.env['TEREDO_UDP_OFFLOAD'] };
    process.env['TEREDO_TUN_OFFLOAD'] = '0'; // the lab's occupants inherit this process's environment
    process.env['TEREDO_UDP_OFFLOAD'] = '0';
    try {
      await lab.startOccupants([{ role: 'server', impl: 'ours' }, { role: 'relay', impl: 'ours' }, { role: 'client', impl: 'ours', node: 'cli-prc' }]);
    } finally {
      for (const [k, v] of [['TEREDO_TUN_OFFLOAD', saved.tun], ['TEREDO_UDP_OFFLOAD', saved.udp]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    await clientAddress('cli-prc');
    expect(await vnetHeaders()).toEqual({ relay: false, client: false });
    await lab.exec('cli-prc', ['ping', '-6', '-c', '2', '-W', '3', ADDR.host6]); // relay discovery and bubbles
    await tenMegabytesBothWays('5005', '5006');
  });
});
