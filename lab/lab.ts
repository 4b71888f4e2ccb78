// A running lab: bring-up, teardown, commands in nodes, and occupants. This is the API the CLI, the vitest
// global setup, the demo and the benchmarks share.
//
// Lifecycle: `Lab.up()` claims an id, writes state.json (phase `building`) *before* touching the kernel,
// builds the network, then starts the requested occupants. `Lab.down(id)` is idempotent and needs no
// state: it stops recorded occupants by PID, kills whatever else runs in `<id>-*` namespaces, deletes them
// and the state directory. With `ownerPid`, a detached reaper does the same once the owner dies, so a
// killed test run leaves nothing behind.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LabError } from './errors.js';
import { ensureHost } from './host.js';
import { installedTool } from './occupant-kit.js';
import { startDelayLines } from './delay-line.js';
import { buildNetwork, destroyNamespaces, existingNamespaces } from './netns.js';
import { ROLE_NODES, type OccupantContext, type OccupantDefinition, type OccupantRequest, type OccupantStatus, type Role } from './occupant.js';
import { isAlive, procId, stopGroup, type ProcId } from './processes.js';
import { loadRegistry } from './registry.js';
import { exec, execOk, inNs, sleep, spawnDetached, waitFor, type ExecOptions, type ExecResult } from './run.js';
import { NATPMP_PORT, STUN_PORT, STUND_ARGV, miniupnpdArgv } from './upnp-nat.js';
import { startReaper } from './reaper.js';
import { claimId, labDir, listStateIds, newState, readState, readStateFile, stateFile, writeState, type LabState, type OccupantRecord } from './state.js';
import { iface, natSites, nodePlan, planLab, zooSelection, LAB_ID_PATTERN, type LabPlan, type NodePlan, type PlanOptions } from './topology.js';

export interface UpOptions {
  /** Run id (`tl` + 2 hex digits); a free one is picked by default. */
  readonly id?: string;
  /** Tear the lab down when this process exits, even by SIGKILL (tests and the demo pass process.pid). */
  readonly ownerPid?: number;
  readonly occupants?: readonly OccupantRequest[];
  /** Install missing Debian packages with scripts/setup-host.sh (default true). */
  readonly install?: boolean;
  readonly log?: (line: string) => void;
  /** Build the NAT zoo too: true for all of topology.ts ZOO_SITES, or the NAT names of some (`['nat-pf']`). */
  readonly zoo?: boolean | readonly string[];
}

export interface DownReport {
  readonly id: string;
  readonly namespacesDeleted: number;
  readonly occupantsStopped: number;
}

/** Roles started first: clients qualify against the server, advertisers should find listeners running. */
const FIRST_WAVE: ReadonlySet<Role> = new Set(['server', 'relay', 'ra-sender', 'rasadv-listener']);

export class Lab {
  readonly plan: LabPlan;
  private mutation: Promise<unknown> = Promise.resolve();

  private constructor(readonly id: string, opts: PlanOptions = {}) {
    // A lab built with options (the zoo) keeps its plan in state.json; the plan of a plain lab follows from the id.
    this.plan = readState(id)?.plan ?? planLab(id, opts);
  }

  get stateFile(): string {
    return stateFile(this.id);
  }

  get dir(): string {
    return labDir(this.id);
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  static async up(opts: UpOptions = {}): Promise<Lab> {
    ensureHost({ install: opts.install ?? true, ...(opts.log ? { log: opts.log } : {}) });
    await Lab.reapOrphans(opts.log);
    if (Array.isArray(opts.zoo)) {
      try {
        zooSelection(opts.zoo as readonly string[]);
      } catch (e) {
        throw new LabError('LAB_BAD_ARGUMENT', (e as Error).message);
      }
    }
    const taken = new Set((await existingNamespaces()).map((n) => n.slice(0, 4)));
    const id = claimId(taken, opts.id);
    const lab = new Lab(id, opts.zoo ? { zoo: opts.zoo } : {});
    let state = newState(id, lab.plan, opts.ownerPid);
    writeState(state);
    try {
      if (opts.ownerPid !== undefined) {
        state = { ...state, reaper: startReaper({ id, ownerPid: opts.ownerPid, token: state.token, dir: lab.dir }) };
        writeState(state);
      }
      await buildNetwork(lab.plan);
      const daemons = await startDelayLines(lab.plan, lab.dir);
      writeState({ ...state, phase: 'up', ...(daemons.length > 0 ? { daemons } : {}) });
      await lab.#startDaemons();
      if (opts.occupants?.length) await lab.startOccupants(opts.occupants);
      return lab;
    } catch (e) {
      await Lab.down(id).catch(() => undefined);
      throw e;
    }
  }

  /** The lab with this id, or the only lab when id is omitted. */
  static attach(id?: string): Lab {
    if (id === undefined) {
      const ids = listStateIds();
      if (ids.length === 0) throw new LabError('LAB_NOT_FOUND', 'no lab is up (teredo-lab up)');
      if (ids.length > 1) throw new LabError('LAB_AMBIGUOUS', `several labs are up (${ids.join(', ')}): pass --id`);
      id = ids[0]!;
    }
    if (!LAB_ID_PATTERN.test(id) || !readState(id)) throw new LabError('LAB_NOT_FOUND', `no lab ${id} (known: ${listStateIds().join(', ') || 'none'})`);
    return new Lab(id);
  }

  static fromStateFile(path: string): Lab {
    return Lab.attach(readStateFile(path).id);
  }

  /** Ids of labs that have state or namespaces. */
  static async list(): Promise<string[]> {
    const fromNs = (await existingNamespaces()).map((n) => n.slice(0, 4)).filter((p) => LAB_ID_PATTERN.test(p));
    return [...new Set([...listStateIds(), ...fromNs])].sort();
  }

  /** Idempotent: works on a half-built lab, a lab whose `up` was killed, or one already gone. */
  static async down(id: string): Promise<DownReport> {
    if (!LAB_ID_PATTERN.test(id)) throw new LabError('LAB_BAD_ARGUMENT', `not a lab id: ${JSON.stringify(id)}`);
    const state = readState(id);
    let stopped = 0;
    if (state) {
      const reaper = state.reaper;
      if (reaper && reaper.pid !== process.pid) await stopGroup(reaper, 0);
      await Promise.all([...state.occupants, ...(state.daemons ?? [])].map((o) => stopGroup(o.proc)));
      stopped = state.occupants.length;
    }
    // Every planned namespace carries the `<id>-` prefix, so the kernel's list covers planned and half-built ones.
    const present = await existingNamespaces(id);
    await destroyNamespaces(present);
    const left = await existingNamespaces(id);
    if (left.length > 0) throw new LabError('LAB_COMMAND_FAILED', `could not delete namespaces: ${left.join(', ')}`);
    rmSync(labDir(id), { recursive: true, force: true });
    return { id, namespacesDeleted: present.length, occupantsStopped: stopped };
  }

  /** Labs whose owner died and whose reaper is gone too (e.g. the machine's PID 1 killed both): tear down. */
  private static async reapOrphans(log?: (line: string) => void): Promise<void> {
    for (const id of listStateIds()) {
      const s = readState(id);
      if (!s || s.ownerPid === undefined) continue;
      const ownerAlive = procId(s.ownerPid) !== undefined;
      const reaperAlive = s.reaper !== undefined && isAlive(s.reaper);
      if (!ownerAlive && !reaperAlive) {
        log?.(`teredo-lab: removing lab ${id}, its owner (pid ${s.ownerPid}) is gone`);
        await Lab.down(id);
      }
    }
  }

  async down(): Promise<DownReport> {
    return Lab.down(this.id);
  }

  state(): LabState {
    const s = readState(this.id);
    if (!s) throw new LabError('LAB_NOT_FOUND', `lab ${this.id} is gone`);
    return s;
  }

  // ---- nodes -----------------------------------------------------------------------------------------------

  node(name: string): NodePlan {
    return nodePlan(this.plan, name);
  }

  ns(node: string): string {
    return this.node(node).ns;
  }

  iface(node: string, segment: string): string {
    return iface(this.plan, node, segment);
  }

  /** Runs argv inside `node` and collects output; a non-zero exit is a result, not an error. */
  exec(node: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return exec(inNs(this.ns(node), argv), opts);
  }

  /** Like exec, but throws (with stderr) on a non-zero exit. */
  execOk(node: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execOk(inNs(this.ns(node), argv), opts);
  }

  /** Starts a long-running command in `node`, attached to the caller (pipes by default); `down` kills it too. */
  spawn(node: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const [cmd, ...args] = inNs(this.ns(node), argv);
    return spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  }

  // ---- the network's own daemons ---------------------------------------------------------------------------

  /** The upnp NATs' STUN server and their miniupnpd (lab/upnp-nat.ts), each waited for until its port listens. */
  async #startDaemons(): Promise<void> {
    const sites = natSites(this.plan).filter((s) => s.zoo === 'upnp');
    if (sites.length === 0) return;
    const dir = join(this.dir, 'daemons');
    mkdirSync(dir, { recursive: true });
    await this.#startDaemon('stund', 'server', STUND_ARGV, dir, STUN_PORT);
    // miniupnpd asks the STUN server at start and opens NAT-PMP only once it has its external address.
    for (const site of sites) {
      const argv = miniupnpdArgv(site, this.iface(site.nat, site.outsideSegment), this.iface(site.nat, site.lanSegment), dir);
      await this.#startDaemon(`miniupnpd-${site.nat}`, site.nat, argv, dir, NATPMP_PORT);
    }
  }

  /**
   * Restarts a daemon of the network (#startDaemons) as its service manager would: stopped by PID (SIGTERM, then
   * SIGKILL), `whileDown` run, started again with the same argv (its log goes on) and waited for until its port
   * listens. natAction's restart-upnp uses it.
   */
  async restartDaemon(name: string, whileDown: () => Promise<void>): Promise<void> {
    const rec = (this.state().daemons ?? []).find((d) => d.name === name);
    if (rec?.argv === undefined || rec.udpPort === undefined) throw new LabError('LAB_BAD_ARGUMENT', `no daemon ${name} to restart`);
    await stopGroup(rec.proc);
    await this.mutate((s) => ({ ...s, daemons: (s.daemons ?? []).filter((d) => d.name !== name) }));
    await whileDown();
    await this.#startDaemon(name, rec.node, rec.argv, dirname(rec.logFile), rec.udpPort);
  }

  async #startDaemon(name: string, node: string, argv: readonly string[], dir: string, udpPort: number): Promise<void> {
    const logFile = join(dir, `${name}.log`);
    const child = spawnDetached(inNs(this.ns(node), argv), { logFile });
    const proc = child.pid !== undefined ? procId(child.pid) : undefined;
    if (!proc) throw new LabError('LAB_COMMAND_FAILED', `could not start ${name} in ${node}`);
    await this.mutate((s) => ({ ...s, daemons: [...(s.daemons ?? []), { name, node, proc, logFile, argv, udpPort }] }));
    const listening = async (): Promise<true | undefined> => {
      if (!isAlive(proc)) throw new LabError('LAB_COMMAND_FAILED', `${name} in ${node} exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      const r = await this.exec(node, ['ss', '-Hlun', `sport = :${udpPort}`]);
      return r.stdout.trim() !== '' ? true : undefined;
    };
    await waitFor(`${name} in ${node}`, listening, 15000);
  }

  // ---- occupants -------------------------------------------------------------------------------------------

  occupants(): readonly OccupantRecord[] {
    return this.state().occupants;
  }

  /** Starts occupants in two waves (servers, relays, RA senders and listeners first); each waits until ready. */
  async startOccupants(reqs: readonly OccupantRequest[]): Promise<OccupantRecord[]> {
    const expand = (r: OccupantRequest): OccupantRequest[] => (r.node ? [r] : ROLE_NODES[r.role].map((node) => ({ ...r, node })));
    const all = reqs.flatMap(expand);
    const first = await Promise.all(all.filter((r) => FIRST_WAVE.has(r.role)).map((r) => this.startOccupant(r)));
    const second = await Promise.all(all.filter((r) => !FIRST_WAVE.has(r.role)).map((r) => this.startOccupant(r)));
    return [...first, ...second];
  }

  /** Starts one occupant and waits until it is ready; on failure it is stopped and the error carries its log. */
  async startOccupant(req: OccupantRequest): Promise<OccupantRecord> {
    const node = req.node ?? ROLE_NODES[req.role][0]!;
    this.node(node);
    const key = `${req.role}@${node}`;
    if (this.occupants().some((o) => o.key === key)) throw new LabError('LAB_BAD_ARGUMENT', `${key} already has an occupant`);
    const def = (await loadRegistry()).get(req.role, req.impl);
    const why = await def.unavailable(installedTool);
    if (why) throw new LabError('LAB_OCCUPANT_UNAVAILABLE', `${req.role}/${req.impl}: ${why}`);

    const dir = join(this.dir, 'occupants', key);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const logFile = join(dir, 'log');
    // A fresh log per occupant: an earlier occupant of the same role and node (another implementation, in an
    // earlier test of the same lab) must not leave its lines in front of this one's.
    writeFileSync(logFile, '', { mode: 0o644 });
    const spec = await def.launch(this.context(node, dir, logFile, undefined));
    const startedAt = Date.now();
    const argv = [...spec.argv, ...(req.args ?? [])];
    const child = spawnDetached(inNs(this.ns(node), argv), { logFile, env: { ...process.env, ...spec.env } });
    const proc = child.pid !== undefined ? procId(child.pid) : undefined;
    if (!proc) throw new LabError('LAB_OCCUPANT_FAILED', `${key}: could not start ${argv.join(' ')}\n${tail(logFile)}`);
    const record: OccupantRecord = { key, role: req.role, impl: req.impl, node, proc, dir, logFile, startedAt };
    await this.mutate((s) => ({ ...s, occupants: [...s.occupants, record] }));

    try {
      await this.waitReady(def, this.context(node, dir, logFile, proc.pid), proc, key, req.readyTimeoutMs ?? def.readyTimeoutMs);
    } catch (e) {
      await this.stopOccupant(key);
      throw e;
    }
    const ready = { ...record, readyAfterMs: Date.now() - startedAt };
    await this.mutate((s) => ({ ...s, occupants: s.occupants.map((o) => (o.key === key ? ready : o)) }));
    return ready;
  }

  /** Stops an occupant's process group by PID and forgets it. Unknown keys are ignored. */
  async stopOccupant(key: string): Promise<void> {
    const rec = this.occupants().find((o) => o.key === key);
    if (!rec) return;
    await stopGroup(rec.proc);
    await this.mutate((s) => ({ ...s, occupants: s.occupants.filter((o) => o.key !== key) }));
  }

  async occupantStatus(rec: OccupantRecord): Promise<OccupantStatus> {
    if (!isAlive(rec.proc)) return { state: 'exited' };
    const def = (await loadRegistry()).get(rec.role as Role, rec.impl);
    return def.status(this.context(rec.node, rec.dir, rec.logFile, rec.proc.pid));
  }

  private async waitReady(def: OccupantDefinition, ctx: OccupantContext, proc: ProcId, key: string, timeoutMs: number): Promise<void> {
    const start = Date.now();
    for (;;) {
      if (!isAlive(proc)) throw new LabError('LAB_OCCUPANT_FAILED', `${key} (${def.impl}) exited during start-up\n${tail(ctx.logFile)}`);
      if (await def.ready(ctx)) return;
      const elapsed = Date.now() - start;
      if (elapsed > timeoutMs) throw new LabError('LAB_OCCUPANT_FAILED', `${key} (${def.impl}) not ready after ${timeoutMs} ms\n${tail(ctx.logFile)}`);
      // Polls spawn processes (ss, ip): fine-grained at first (start-up times are measured), then sparser.
      await sleep(Math.min(250, 25 + elapsed / 10));
    }
  }

  private context(node: string, dir: string, logFile: string, pid: number | undefined): OccupantContext {
    return {
      plan: this.plan,
      node: this.node(node),
      dir,
      logFile,
      pid,
      exec: (argv, opts) => this.exec(node, argv, opts),
      log: () => readText(logFile),
    };
  }

  /** Serialises read-modify-write of state.json within this process. */
  private mutate(f: (s: LabState) => LabState): Promise<void> {
    const next = this.mutation.then(() => writeState(f(this.state())));
    this.mutation = next.catch(() => undefined);
    return next;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function tail(file: string, lines = 15): string {
  const text = readText(file).trimEnd();
  return text ? `--- last lines of ${file} ---\n${text.split('\n').slice(-lines).join('\n')}` : `(${file} is empty)`;
}
