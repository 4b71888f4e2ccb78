// `<agent> status`, owned by the runtime: every agent gets the same subcommand, flags, timeout, exit codes and
// header line; the agent only declares what its status object holds (the type S its RunningAgent.status()
// returns) and, optionally, how to show it to people (AgentDefinition.formatStatus, body lines under the
// header). The object travels over the control socket (control.ts) as JSON, so S is plain data.
//
//   <agent> status [--json] [--instance NAME] [--timeout MS]
//     --json     the whole object (StatusBase & S) as JSON, for scripts and the lab's occupants
//     (default)  "<agent>: running, pid N, up 1h2m, 1 reload" and the agent's lines (JSON when it has none)
//
// Exit codes as for every agent (errors.ts): 0, 1 when the agent does not answer in time, 2 usage, 3 when
// none runs in this network namespace.

import type { CliIo } from './cli.js';
import { controlName, queryControl } from './control.js';
import { AgentError } from './errors.js';
import type { HostStatus } from './host.js';

/** What the runtime puts in every status object, whatever the agent. */
export interface StatusBase {
  readonly agent: string;
  readonly instance: string | null;
  readonly pid: number;
  readonly uptimeSec: number;
  /** SIGHUP reloads applied since start. */
  readonly reloads: number;
}

/** The object `status --json` prints once setup() has returned: the base, the host's fields and the agent's own S. */
export type RunningStatus<S> = StatusBase & { readonly lifecycle: 'running' } & HostStatus & S;

/** What `status --json` prints: before start() returns (sockets still opening) only the base is known. */
export type AgentStatus<S> = (StatusBase & { readonly lifecycle: 'starting' }) | RunningStatus<S>;

/** Renders the agent's part of a running status as lines for people (the runtime prints the header line). */
export type StatusFormatter<S> = (status: RunningStatus<S>) => string[];

export const DEFAULT_STATUS_TIMEOUT_MS = 2000;

/**
 * Runs `status` for the agent `name`: asks the one running in this network namespace (instance as given)
 * and prints it. Throws AgentError USAGE for a bad --timeout, CONTROL_NO_LISTENER / CONTROL_FAILED from the
 * query; the caller maps them to exit codes.
 */
export async function printAgentStatus<S>(name: string, args: { json?: unknown; instance?: string | undefined; timeout?: unknown }, io: CliIo, format?: StatusFormatter<S>): Promise<number> {
  const timeoutMs = args.timeout === undefined ? DEFAULT_STATUS_TIMEOUT_MS : Number(args.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new AgentError('USAGE', `--timeout (${String(args.timeout)}) must be a positive integer`);
  const status = (await queryControl(controlName(name, args.instance), { cmd: 'status' }, timeoutMs)) as AgentStatus<S>;
  io.stdout(args.json === true || format === undefined ? `${JSON.stringify(status, null, 2)}\n` : formatAgentStatus(status, format));
  return 0;
}

/** The human view: the header line, then (once running) the agent's lines indented by two spaces. */
export function formatAgentStatus<S>(s: AgentStatus<S>, format: StatusFormatter<S>): string {
  const header = `${s.agent}${s.instance ? ` (instance ${s.instance})` : ''}: ${s.lifecycle}, pid ${s.pid}, up ${formatDuration(s.uptimeSec)}, ${s.reloads} reload${s.reloads === 1 ? '' : 's'}`;
  const body = s.lifecycle === 'running' ? format(s).map((l) => `  ${l}`) : [];
  return `${[header, ...body].join('\n')}\n`;
}

/**
 * Rows of cells → aligned lines, two spaces apart; the last column (a count) is right-aligned, the others
 * left-aligned. Trailing spaces are trimmed.
 */
export function statusTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** "i/o errors: N" with the ports that had any ("udp 3, tun 1"), or nothing when there were none. */
export function formatIoErrors(ioErrors: Readonly<Record<string, number>>): string[] {
  const bad = Object.entries(ioErrors).filter(([, n]) => n > 0);
  return bad.length === 0 ? [] : [`i/o errors: ${bad.reduce((t, [, n]) => t + n, 0)} (${bad.map(([p, n]) => `${p} ${n}`).join(', ')})`];
}

/** "dropped: N" and one line per reason, largest first (driver.drops() or an engine's own counts). */
export function formatDrops(drops: Readonly<Record<string, number>>): string[] {
  const sorted = Object.entries(drops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = sorted.reduce((n, [, v]) => n + v, 0);
  return [`dropped: ${total}${sorted.length ? '' : ' (none)'}`, ...statusTable(sorted.map(([reason, n]) => [reason, String(n)])).map((l) => `  ${l}`)];
}

/** Seconds as "1h2m": the two largest non-zero units of d, h, m, s; "0s" for 0. */
export function formatDuration(sec: number): string {
  const d = Math.floor(sec / 86_400);
  const h = Math.floor((sec % 86_400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', sec % 60 ? `${sec % 60}s` : ''].filter(Boolean);
  return parts.length ? parts.slice(0, 2).join('') : '0s';
}
