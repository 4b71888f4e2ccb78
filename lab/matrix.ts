// `teredo-lab matrix`: every NAT case of the zoo (topology.ts ZOO_SITES, nat-zoo.ts) with each Teredo stack
// (server, relay and clients of one implementation), on one zoo lab. Per case: success, the time from the
// client's start to a working path (qualified, then an Echo Reply in each direction the case is about), the
// NAT type the client reports, and ping counts. Printed, never asserted: the point is to see where a stack
// fails, and a stack that fails a case is a finding, not a broken lab.
//
// A working path: `ping -c1` retried once a second (up to PATH_TRIES) until it is answered, in each direction:
// client → host6 and host6 → client through the relay, or client ↔ peer for the cases about two clients.
// Then PINGS pings each way are counted for the table.

import type { Lab } from './lab.js';
import { natAction } from './nat-zoo.js';
import { ping6, type PingResult } from './observe.js';
import type { OccupantRecord } from './state.js';
import { sleep } from './run.js';
import { ADDR } from './topology.js';
import { UPNP_TABLE } from './upnp-nat.js';

export interface CaseResult {
  readonly ok: boolean;
  /** Client start → working path, ms. */
  readonly ms?: number;
  readonly nat?: string;
  readonly detail: string;
  /** The counted pings (PINGS each way) once a path was tried: a → b (`there`) and b → a (`back`). */
  readonly pings?: { readonly there: PingResult; readonly back: PingResult };
}

export interface MatrixCase {
  readonly name: string;
  readonly summary: string;
  run(ctx: CaseContext): Promise<CaseResult>;
}

export interface CaseContext {
  readonly lab: Lab;
  readonly stack: string;
  readonly log: (line: string) => void;
}

const PATH_TRIES = 30;
const PINGS = 5;
/** Idle time of the 30 s mapping case: two mapping lifetimes. */
const IDLE_S = 65;
/** How long UDP stays blocked before it opens. */
const BLOCKED_S = 10;
/** Upper bound for qualification in the cases that wait out something (blocked UDP, a reboot). */
const SLOW_READY_MS = 150_000;

/** Starts a client of the case's stack in `node` and waits until it is ready (qualified). */
export async function startClient(ctx: CaseContext, node: string, readyTimeoutMs?: number): Promise<OccupantRecord> {
  return ctx.lab.startOccupant({ role: 'client', impl: ctx.stack, node, ...(readyTimeoutMs ? { readyTimeoutMs } : {}) });
}

async function address(ctx: CaseContext, rec: OccupantRecord): Promise<{ addr?: string; nat?: string }> {
  const s = await ctx.lab.occupantStatus(rec);
  return { ...(s.teredoAddress ? { addr: s.teredoAddress } : {}), ...(s.natType ? { nat: s.natType } : {}) };
}

/** Retries one ping a second until answered; true when it was. */
async function pathWorks(lab: Lab, from: string, to: string): Promise<boolean> {
  for (let i = 0; i < PATH_TRIES; i++) {
    if ((await ping6(lab, from, to, 1)).received === 1) return true;
    await sleep(1000);
  }
  return false;
}

/** Path both ways between nodes `a` and `b` (host6 or client nodes), a → b tried first, then the ping counts. */
export async function bothWays(ctx: CaseContext, a: string, aAddr: string, b: string, bAddr: string, t0: number, nat?: string): Promise<CaseResult> {
  const there = await pathWorks(ctx.lab, a, bAddr);
  const back = await pathWorks(ctx.lab, b, aAddr);
  const ms = Date.now() - t0;
  const out = await ping6(ctx.lab, a, bAddr, PINGS, 0.5);
  const ret = await ping6(ctx.lab, b, aAddr, PINGS, 0.5);
  const detail = `${a}→${b} ${out.received}/${out.sent}, ${b}→${a} ${ret.received}/${ret.sent}`;
  return { ok: there && back, ...(there && back ? { ms } : {}), ...(nat ? { nat } : {}), detail, pings: { there: out, back: ret } };
}

/** One client behind `node`: qualified, then host6 both ways through the relay. */
export async function withHost6(ctx: CaseContext, node: string): Promise<CaseResult> {
  const t0 = Date.now();
  const rec = await startClient(ctx, node);
  const { addr, nat } = await address(ctx, rec);
  if (!addr) return { ok: false, detail: 'no Teredo address' };
  return bothWays(ctx, node, addr, 'host6', ADDR.host6, t0, nat);
}

/**
 * One client behind a NAT running miniupnpd: host6 both ways, plus the ports miniupnpd forwards to the client
 * (read from the NAT, whichever stack asked); a stack that got a mapping must report cone (RFC 6081 §5.3 on a
 * symmetric NAT).
 */
async function withPortMapping(ctx: CaseContext, nat: string, node: string): Promise<CaseResult> {
  const r = await withHost6(ctx, node);
  const lan = ctx.lab.node(nat).nat!.clientAddr.replaceAll('.', '\\.');
  const rules = (await ctx.lab.execOk(nat, ['nft', 'list', 'chain', 'inet', UPNP_TABLE, 'prerouting_miniupnpd'])).stdout;
  const mapped = [...rules.matchAll(new RegExp(`dport (\\d+) dnat ip to ${lan}:\\d+`, 'g'))].map((m) => m[1]!);
  const detail = `${mapped.length > 0 ? `mapped port ${mapped.join(', ')}` : 'no port mapped'}; ${r.detail}`;
  if (mapped.length > 0 && r.nat !== undefined && r.nat !== 'cone') return { ...r, ok: false, detail: `reported ${r.nat} through a mapping; ${detail}` };
  return { ...r, detail };
}

/** Two clients: both qualified, then each reaches the other. */
async function peers(ctx: CaseContext, a: string, b: string): Promise<CaseResult> {
  const t0 = Date.now();
  const [ra, rb] = await Promise.all([startClient(ctx, a), startClient(ctx, b)]);
  const [sa, sb] = await Promise.all([address(ctx, ra), address(ctx, rb)]);
  if (!sa.addr || !sb.addr) return { ok: false, detail: 'not qualified' };
  return bothWays(ctx, a, sa.addr, b, sb.addr, t0, sa.nat);
}

export const MATRIX_CASES: readonly MatrixCase[] = [
  {
    name: 'port-forward',
    summary: 'nat-pf: port-restricted, Teredo port forwarded; host6 both ways, and a stack that reports a NAT type says cone',
    async run(ctx) {
      const r = await withHost6(ctx, 'cli-pf');
      // The forward admits anyone to the Teredo port: the client is reachable as behind a cone NAT (issue 16).
      return r.nat !== undefined && r.nat !== 'cone' ? { ...r, ok: false, detail: `reported ${r.nat}, is cone; ${r.detail}` } : r;
    },
  },
  { name: 'hairpin', summary: 'nat-hp: two clients behind one hairpinning NAT, to each other', run: (c) => peers(c, 'cli-hp', 'cli-hp2') },
  { name: 'no-hairpin', summary: 'nat-nhp: two clients behind one NAT without hairpinning, to each other', run: (c) => peers(c, 'cli-nhp', 'cli-nhp2') },
  { name: 'cgnat', summary: 'nat-cgn: home NAT behind a carrier-grade NAT; host6 both ways', run: (c) => withHost6(c, 'cli-cgn') },
  { name: 'sequential ↔ prc', summary: 'nat-seq (sequential symmetric) to a peer behind nat-prc (port-restricted)', run: (c) => peers(c, 'cli-seq', 'cli-prc') },
  { name: 'port-preserving ↔ prc', summary: 'nat-pps (port-preserving symmetric) to a peer behind nat-prc', run: (c) => peers(c, 'cli-pps', 'cli-prc') },
  {
    name: '30 s mappings',
    summary: `nat-t30: qualified, idle ${IDLE_S} s, then host6 → client`,
    async run(ctx) {
      const rec = await startClient(ctx, 'cli-t30');
      const { addr, nat } = await address(ctx, rec);
      if (!addr) return { ok: false, detail: 'no Teredo address' };
      await sleep(IDLE_S * 1000);
      const t0 = Date.now();
      // host6 first: a client → host6 packet would make a new mapping and hide a lost one.
      const r = await bothWays(ctx, 'host6', ADDR.host6, 'cli-t30', addr, t0, nat);
      return { ...r, detail: `after ${IDLE_S} s idle: ${r.detail}` };
    },
  },
  {
    name: 'NAT reboot',
    summary: 'nat-rb: qualified, NAT reboots (mappings lost, new ports) while it pings host6; time to a new working address',
    async run(ctx) {
      const rec = await startClient(ctx, 'cli-rb');
      const before = (await address(ctx, rec)).addr;
      if (!before) return { ok: false, detail: 'no Teredo address' };
      await natAction(ctx.lab, 'nat-rb', 'reboot');
      const t0 = Date.now();
      for (;;) {
        const now = await address(ctx, rec);
        if (now.addr && now.addr !== before) {
          const r = await bothWays(ctx, 'cli-rb', now.addr, 'host6', ADDR.host6, t0, now.nat);
          return { ...r, detail: `new address; ${r.detail}` };
        }
        if (Date.now() - t0 > SLOW_READY_MS) return { ok: false, detail: `address unchanged after ${SLOW_READY_MS / 1000} s` };
        // Traffic meanwhile, as on a host in use: a client learns of the reboot from its unanswered packets or
        // at its next maintenance RS, whichever comes first.
        await ping6(ctx.lab, 'cli-rb', ADDR.host6, 1);
      }
    },
  },
  {
    name: 'UDP blocked, then open',
    summary: `nat-blk: client starts with UDP blocked, opened after ${BLOCKED_S} s; time counted from the opening`,
    async run(ctx) {
      await natAction(ctx.lab, 'nat-blk', 'block-udp');
      const starting = startClient(ctx, 'cli-blk', SLOW_READY_MS);
      await sleep(BLOCKED_S * 1000);
      await natAction(ctx.lab, 'nat-blk', 'open-udp');
      const t0 = Date.now();
      const rec = await starting;
      const { addr, nat } = await address(ctx, rec);
      if (!addr) return { ok: false, detail: 'no Teredo address' };
      return bothWays(ctx, 'cli-blk', addr, 'host6', ADDR.host6, t0, nat);
    },
  },
  { name: 'loss 5 %', summary: 'nat-loss: 5 % loss and 40 ms delay each way; host6 both ways', run: (c) => withHost6(c, 'cli-loss') },
  {
    name: 'UPnP / NAT-PMP',
    summary: 'nat-upnp: port-restricted with miniupnpd (UPnP IGD, NAT-PMP, PCP); host6 both ways, and a stack that maps its port reports cone',
    run: (c) => withPortMapping(c, 'nat-upnp', 'cli-upnp'),
  },
  {
    name: 'UPnP, symmetric',
    summary: 'nat-upnps: symmetric with miniupnpd; host6 both ways, and a stack that maps its port and opens it toward its server (RFC 6081 §5.3) reports cone',
    run: (c) => withPortMapping(c, 'nat-upnps', 'cli-upnps'),
  },
  { name: 'UPnP symmetric ↔ prc', summary: 'nat-upnps (symmetric with miniupnpd) to a peer behind nat-prc (port-restricted)', run: (c) => peers(c, 'cli-upnps', 'cli-prc') },
];

export interface MatrixRow {
  readonly stack: string;
  readonly results: ReadonlyMap<string, CaseResult>;
}

/** Runs every case with one stack; clients are stopped after each case, server and relay after the stack. */
export async function runMatrix(lab: Lab, stack: string, log: (line: string) => void, only?: readonly string[]): Promise<MatrixRow> {
  const results = new Map<string, CaseResult>();
  await lab.startOccupants([
    { role: 'server', impl: stack },
    { role: 'relay', impl: stack },
  ]);
  const ctx: CaseContext = { lab, stack, log };
  for (const c of MATRIX_CASES.filter((x) => !only?.length || only.includes(x.name))) {
    log(`matrix: ${stack}: ${c.name}`);
    let r: CaseResult;
    try {
      r = await c.run(ctx);
    } catch (e) {
      r = { ok: false, detail: (e as Error).message.split('\n')[0]! };
    }
    results.set(c.name, r);
    for (const o of lab.occupants().filter((x) => x.role === 'client')) await lab.stopOccupant(o.key);
  }
  for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  return { stack, results };
}

/** Table rows: case, then per stack "ok 1.2 s" / "FAIL", then per stack the detail. */
export function matrixRows(rows: readonly MatrixRow[]): string[][] {
  const head = ['case', ...rows.map((r) => r.stack), ...rows.map((r) => `${r.stack}: details`)];
  const body = MATRIX_CASES.filter((c) => rows.some((r) => r.results.has(c.name))).map((c) => [
    c.name,
    ...rows.map((r) => cell(r.results.get(c.name))),
    ...rows.map((r) => {
      const x = r.results.get(c.name);
      return x ? `${x.nat ? `nat=${x.nat}; ` : ''}${x.detail}` : '-';
    }),
  ]);
  return [head, ...body];
}

function cell(r: CaseResult | undefined): string {
  if (!r) return '-';
  return r.ok ? `ok ${((r.ms ?? 0) / 1000).toFixed(1)} s` : 'FAIL';
}
