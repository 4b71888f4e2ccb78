// The Occupant interface: what fills a role in the lab (Teredo server, relay, client, RA sender, rasadv
// advertiser or listener). An occupant is our agent or a reference implementation (miredo, radvd).
//
// An occupant only *describes* how to run: it writes its config into its private directory and returns an
// argv. The lab spawns that argv inside the node's namespace as a detached process group, records PID and
// start time in the state file, polls `ready` (failing fast with the log tail if the process dies) and stops
// the group by PID. So an occupant cannot leak processes, and `down` can always clean up after it.
//
// To add one: drop a file into lab/occupants/ exporting `occupants: readonly OccupantDefinition[]`
// (see miredo.ts); the registry finds it, the CLI accepts `--<role> <impl>`, and the demo prefers `ours`.

import type { ExecOptions, ExecResult } from './run.js';
import { NAT_SITES, type LabPlan, type NodePlan } from './topology.js';

export type Role = 'server' | 'relay' | 'client' | 'ra-sender' | 'rasadv' | 'rasadv-listener';

export const ROLES: readonly Role[] = ['server', 'relay', 'client', 'ra-sender', 'rasadv', 'rasadv-listener'];

/** The nodes each role is placed in by default (clients: one per NAT, listeners: both mlan hosts). */
export const ROLE_NODES: Readonly<Record<Role, readonly string[]>> = {
  server: ['server'],
  relay: ['relay'],
  client: NAT_SITES.map((s) => s.client),
  'ra-sender': ['ra'],
  rasadv: ['adv'],
  'rasadv-listener': ['lst1', 'lst2'],
};

/** What an occupant sees of the lab while it prepares, polls readiness or reports status. */
export interface OccupantContext {
  readonly plan: LabPlan;
  readonly node: NodePlan;
  /** Private directory for configs and pid files; world-readable (daemons that drop privileges read it). */
  readonly dir: string;
  /** Receives the process's stdout and stderr. */
  readonly logFile: string;
  /** PID of the running process (group leader); undefined before start. */
  readonly pid: number | undefined;
  /** Runs a command inside the occupant's node. */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The log so far. */
  log(): string;
}

export interface LaunchSpec {
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface OccupantStatus {
  /** Occupant-specific words: `running`, `qualified`, `probing`, `advertising`, `exited`. */
  readonly state: string;
  readonly teredoAddress?: string;
  /** The NAT type as the occupant itself determined it (Miredo does not; ours may). */
  readonly natType?: string;
  /** Anything else worth a column in `status` or the demo (e.g. a rasadv listener's table as text). */
  readonly detail?: Readonly<Record<string, string>>;
}

/**
 * Whether a command is installed on this host (e.g. "miredo"). Injected into `unavailable` so a test can
 * judge availability with tools absent or present; the real one looks in the system directories.
 */
export type ToolProbe = (command: string) => boolean;

export interface OccupantDefinition {
  readonly role: Role;
  /** `ours`, or the reference implementation's name (`miredo`, `radvd`). */
  readonly impl: string;
  readonly summary: string;
  /**
   * Why it cannot run on this machine (binary missing, agent not built), or undefined when it can.
   * `installed` says which commands exist (occupant-kit's installedTool unless a test injects one).
   */
  unavailable(installed: ToolProbe): Promise<string | undefined>;
  /** Writes config files into ctx.dir and returns the command to run in the node. Never points outside the lab. */
  launch(ctx: OccupantContext): Promise<LaunchSpec>;
  /** One readiness poll: true once the occupant does its job (bound its sockets, qualified, advertised). */
  ready(ctx: OccupantContext): Promise<boolean>;
  /** Upper bound for `ready` to turn true after start. */
  readonly readyTimeoutMs: number;
  status(ctx: OccupantContext): Promise<OccupantStatus>;
}

/** What to start where: `{ role: 'client', impl: 'miredo', node: 'cli-prc' }`; node defaults to ROLE_NODES. */
export interface OccupantRequest {
  readonly role: Role;
  readonly impl: string;
  readonly node?: string;
  /** Overrides the definition's readyTimeoutMs (the matrix waits out a blocked network). */
  readonly readyTimeoutMs?: number;
  /** Arguments appended to the occupant's command (a test's flags, e.g. `--local-discovery off`). */
  readonly args?: readonly string[];
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}
