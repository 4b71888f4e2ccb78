// rasadv in the lab's multicast LAN (issue 5 acceptance), as root in network namespaces:
//
//   adv 192.168.77.1 ──┐
//   lst1 .11 ──────────┼── sw-mlan (bridge, no IGMP snooping)
//   lst2 .12 ──────────┘
//
// - a tshark capture on adv shows destination 239.255.2.2:9753, IP TTL 15, an ephemeral source port and
//   exactly the seed's 21-byte payload; both listeners list the advertiser with its address and name;
// - a listener with --allow that does not name the advertiser exits 4 in --once mode (0 when it does);
// - with a 1 s interval a listener sees the periodic sends, then marks the stopped advertiser stale (outcomes
//   only; the timings are checked on a fake clock in test/engine); both run as nobody without capabilities,
//   as the systemd units do.
// - multicast loopback is off unless --loopback;
// - the lab's own rasadv occupants (lab/occupants/rasadv-ours.ts) start, and their status shows the
//   listeners' tables.
// Processes are started with the lab's spawn (inside the node's namespace) and ended by PID after each test;
// the run's lab (global-setup.ts) deletes the namespaces and anything left in them.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { useLab, ADDR } from './lab.js';
import { distFile, missingDist } from '../../lab/paths.js';
import { sleep, waitFor } from '../../lab/run.js';
import { LAB_HOSTNAME } from '../../lab/occupants/rasadv-ours.js';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { hex } from '../../src/wire/bytes.js';

const MAIN = distFile('agents/rasadv/main.js');
const SEED_PAYLOAD_HEX = '486f73746e616d653d7468657063736e616d650a00';

interface Proc {
  readonly child: ChildProcess;
  readonly out: string[];
  readonly err: string[];
  readonly exited: Promise<number | null>;
}

const lab = useLab();
const procs: Proc[] = [];

function start(node: string, argv: string[]): Proc {
  const child = lab.spawn(node, argv);
  const out: string[] = [];
  const err: string[] = [];
  const lines = (sink: string[]) => {
    let partial = '';
    return (b: Buffer) => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop()!;
      sink.push(...parts);
    };
  };
  child.stdout!.on('data', lines(out));
  child.stderr!.on('data', lines(err));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const p = { child, out, err, exited };
  procs.push(p);
  return p;
}

const rasadv = (node: string, ...args: string[]): Proc => start(node, [process.execPath, MAIN, ...args]);
/** As the systemd units run it: not root, no capability in any set, no way to gain one. */
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs'];
const rasadvUnprivileged = (node: string, ...args: string[]): Proc => start(node, [...NOBODY, process.execPath, MAIN, ...args]);
const mlan = (node: string): string => lab.iface(node, 'mlan');
const json = (p: Proc): Record<string, unknown>[] => p.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const until = (check: () => boolean, ms: number, what: string) => waitFor(what, async () => (check() ? true : undefined), ms);

/** Waits until a listener logged "listening" (it joined the group), so the first advertisement is not missed. */
// "started" is logged once the signal handlers are installed: signalling earlier would kill the process.
const listening = (p: Proc) => until(() => p.err.some((l) => l.includes('"msg":"started"')), 10_000, 'listener ready');
const advertising = (p: Proc) => until(() => p.out.some((l) => l.includes('"msg":"started"')), 10_000, 'advertiser ready');

async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

beforeAll(() => {
  // `npm run test:netns` builds first; a bare `vitest --project netns` needs a build too.
  expect(missingDist('agents/rasadv/main.js')).toBeUndefined();
});

afterEach(async () => {
  // By PID, each process the test started; SIGKILL after SIGTERM had its chance.
  await Promise.all(procs.splice(0).map(async (p) => {
    const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
    await stop(p);
    clearTimeout(t);
  }));
});

describe('rasadv in the lab (mlan)', () => {
  it('sends the seed payload to 239.255.2.2:9753 with TTL 15; both listeners list the advertiser', async () => {
    expect(hex(encodeRasAdv({ hostname: 'thepcsname' }))).toBe(SEED_PAYLOAD_HEX);
    const listeners = ['lst1', 'lst2'].map((n) => rasadv(n, 'listen', '--interface', mlan(n)));
    await Promise.all(listeners.map(listening));
    const tshark = start('adv', ['tshark', '-n', '-l', '-i', mlan('adv'), '-f', 'udp dst port 9753', '-c', '2', '-a', 'duration:30', '-T', 'fields', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'ip.ttl', '-e', 'udp.srcport', '-e', 'data.data']);
    await until(() => tshark.err.some((l) => l.includes('Capturing on')), 15_000, 'tshark to capture');

    const adv = rasadv('adv', 'advertise', '--interface', mlan('adv'), '--hostname', 'thepcsname');
    await until(() => listeners.every((l) => l.out.some((x) => x.includes('Hostname=thepcsname'))), 10_000, 'both listeners to hear the advertiser');
    await advertising(adv);
    adv.child.kill('SIGUSR1'); // a second advertisement, "send now"
    expect(await tshark.exited).toBe(0);
    const captured = tshark.out.filter((l) => l.trim() !== '').map((l) => l.split('\t'));
    expect(captured).toHaveLength(2);
    for (const [dst, dport, ttl, sport, data] of captured) {
      expect([dst, dport, ttl, data]).toEqual(['239.255.2.2', '9753', '15', SEED_PAYLOAD_HEX]);
      expect(Number(sport)).toBeGreaterThanOrEqual(1024); // ephemeral, not 9753
      expect(Number(sport)).not.toBe(9753);
    }
    expect(captured[0]![3]).toBe(captured[1]![3]); // one socket, one source port

    for (const l of listeners) {
      const i = l.out.findIndex((x) => x.includes(ADDR.adv));
      expect(l.out.slice(0, 2)).toEqual(['Timestamp                 Sender', '------------------------  ----------------------------------']);
      expect(l.out[i]).toMatch(new RegExp(`^\\w{3} \\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d \\d{4} {2}${ADDR.adv.replace(/\./g, '\\.')}$`));
      expect(l.out[i + 1]).toBe('   Hostname=thepcsname');
    }
    await until(() => listeners.every((l) => l.out.filter((x) => x === '   Hostname=thepcsname').length === 2), 5_000, 'the SIGUSR1 advertisement');
    expect(await stop(adv)).toBe(0);
    expect(adv.err.join('\n') + adv.out.join('\n')).toContain('"cause":"request"');
  });

  it('--once reports an advertiser missing from --allow as unknown (exit 4) and an allowed one as fine (exit 0)', async () => {
    // A listening daemon on lst1 too: the --once check must share port 9753 and not collide on the control socket.
    const daemon = rasadv('lst1', 'listen', '--interface', mlan('lst1'), '--json');
    await listening(daemon);
    const adv = rasadv('adv', 'advertise', '--interface', mlan('adv'), '--hostname', 'ROGUE-RAS', '--domain', 'EARTH.COM', '--interval', '1');
    const unknown = rasadv('lst1', 'listen', '--interface', mlan('lst1'), '--allow', 'RRAS01,10.0.0.0/8', '--once', '--timeout', '3');
    const byName = rasadv('lst2', 'listen', '--interface', mlan('lst2'), '--allow', 'rogue-ras', '--once', '--timeout', '3', '--json');
    const [u, n] = await Promise.all([unknown.exited, byName.exited]);
    expect(u).toBe(4);
    expect(unknown.out.find((l) => l.includes(ADDR.adv))).toMatch(/ {2}192\.168\.77\.1 {2}UNKNOWN$/);
    expect(unknown.out).toContain('   Domain=EARTH.COM');
    expect(unknown.err.some((l) => l.includes('"level":"warn"') && l.includes('unknown RAS server') && l.includes('ROGUE-RAS'))).toBe(true);
    expect(n).toBe(0);
    const events = json(byName);
    expect(events.find((e) => e.event === 'advertisement')).toMatchObject({ sender: ADDR.adv, hostname: 'ROGUE-RAS', domain: 'EARTH.COM', known: true });
    expect(events.at(-1)).toMatchObject({ event: 'summary', unknown: 0, unknownHeard: false });

    const byAddr = rasadv('lst2', 'listen', '--interface', mlan('lst2'), '--allow', `${ADDR.adv}`, '--once', '--timeout', '2.5', '--json');
    expect(await byAddr.exited).toBe(0);
    expect(json(byAddr).filter((e) => e.event === 'advertisement').length).toBeGreaterThanOrEqual(2);
    await stop(adv);
    expect(json(daemon).filter((e) => e.event === 'advertisement' && e.hostname === 'ROGUE-RAS').length).toBeGreaterThanOrEqual(5);
  });

  it('with a 1 s interval the listener sees periodic sends, then marks the stopped advertiser stale (both unprivileged)', async () => {
    const lst = rasadvUnprivileged('lst1', 'listen', '--interface', mlan('lst1'), '--json', '--interval', '1', '--allow', 'PERIODIC');
    await listening(lst);
    const adv = rasadvUnprivileged('adv', 'advertise', '--interface', mlan('adv'), '--hostname', 'PERIODIC', '--interval', '1');
    await until(() => json(lst).filter((e) => e.event === 'advertisement').length >= 4, 10_000, '4 advertisements');
    expect(await stop(adv)).toBe(0);
    await until(() => json(lst).some((e) => e.event === 'stale'), 10_000, 'the stale event');

    // Outcomes, not timings (the interval and the stale deadline are checked on a fake clock in
    // test/engine/rasadv-advertiser.test.ts and rasadv-listener.test.ts): one more advertisement each time,
    // then, the advertiser stopped, one stale event and nothing after it.
    const events = json(lst).filter((e) => e.event === 'advertisement' || e.event === 'stale');
    const ads = events.slice(0, -1);
    expect(ads.map((e) => e.event)).toEqual(ads.map(() => 'advertisement'));
    expect(ads.map((e) => e.count)).toEqual(ads.map((_, i) => i + 1));
    expect(ads.map((e) => e.change)).toEqual(['new', ...ads.slice(1).map(() => 'again')]);
    expect(events.at(-1)).toMatchObject({ event: 'stale', sender: ADDR.adv, hostname: 'PERIODIC', stale: true, known: true, count: ads.length });
  });

  it('multicast loopback is off unless --loopback: a listener on the advertiser\'s own node hears it only then', async () => {
    const local = rasadv('adv', 'listen', '--interface', mlan('adv'), '--json');
    const remote = rasadv('lst1', 'listen', '--interface', mlan('lst1'), '--json');
    await Promise.all([listening(local), listening(remote)]);
    const quiet = rasadv('adv', 'advertise', '--interface', mlan('adv'), '--hostname', 'NOLOOP');
    await until(() => json(remote).some((e) => e.hostname === 'NOLOOP'), 5_000, 'the remote listener to hear NOLOOP');
    await sleep(500);
    expect(json(local).some((e) => e.hostname === 'NOLOOP')).toBe(false);
    await stop(quiet);
    const loud = rasadv('adv', 'advertise', '--interface', mlan('adv'), '--hostname', 'LOOP', '--loopback');
    await until(() => json(local).some((e) => e.hostname === 'LOOP') && json(remote).some((e) => e.hostname === 'LOOP'), 5_000, 'both listeners to hear LOOP');
    await stop(loud);
  });

  it('the lab occupants: our advertiser on adv, our listeners on lst1 and lst2 list it as known', async () => {
    await lab.startOccupants([{ role: 'rasadv-listener', impl: 'ours' }, { role: 'rasadv', impl: 'ours' }]);
    const listeners = lab.occupants().filter((o) => o.role === 'rasadv-listener');
    expect(listeners.map((o) => o.node).sort()).toEqual(['lst1', 'lst2']);
    for (const o of listeners) {
      let status = await lab.occupantStatus(o);
      const deadline = Date.now() + 10_000;
      while (!String(status.detail?.servers).includes(LAB_HOSTNAME) && Date.now() < deadline) {
        await sleep(200);
        status = await lab.occupantStatus(o);
      }
      expect(status).toMatchObject({ state: 'listening', detail: { servers: expect.stringMatching(new RegExp(`^${ADDR.adv.replace(/\./g, '\\.')} ${LAB_HOSTNAME} \\(\\d+\\)$`)) } });
    }
    const adv = lab.occupants().find((o) => o.role === 'rasadv')!;
    expect(await lab.occupantStatus(adv)).toMatchObject({ state: 'advertising', detail: { hostname: LAB_HOSTNAME, sent: expect.stringContaining(`${ADDR.adv}: `) } });
    // `status` for people, the runtime's header and each mode's own lines, from inside the node.
    const listenText = (await lab.execOk('lst1', [process.execPath, MAIN, 'listen', 'status'])).stdout;
    expect(listenText).toMatch(/^rasadv listen: running, pid \d+, up \w+, 0 reloads\n/);
    expect(listenText).toMatch(new RegExp(`\\n  ${ADDR.adv.replace(/\./g, '\\.')}( \\([^)]*\\))? +${LAB_HOSTNAME} +yes +fresh `)); // (its DNS name, if any)
    const advText = (await lab.execOk('adv', [process.execPath, MAIN, 'advertise', 'status'])).stdout;
    expect(advText).toMatch(new RegExp(`^rasadv advertise: running, pid \\d+.*\\n  advertising Hostname=${LAB_HOSTNAME} to 239\\.255\\.2\\.2:9753\\n`, 's'));
  });
});
