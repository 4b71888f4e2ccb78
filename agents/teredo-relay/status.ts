// `teredo-relay status [--json] [--instance NAME] [--timeout MS]`: asks the relay running in this network
// namespace over its control socket (src/runtime/control.ts) and prints peers, traffic each way and drops by
// reason, as text for people or as the raw JSON object for scripts. Exit codes as for every agent: 0, 3 when no
// relay runs here, 1 when it does not answer.

import yargs from 'yargs';
import type { CliIo } from '../../src/runtime/cli.js';
import { controlName, queryControl } from '../../src/runtime/control.js';
import { AgentError, exitCodeFor, formatAgentError } from '../../src/runtime/errors.js';

export const AGENT_NAME = 'teredo-relay';

/** The fields `status` relies on (what relay.ts status() returns, plus the runtime's base fields). */
export interface RelayStatus {
  readonly pid: number;
  readonly instance: string | null;
  readonly uptimeSec: number;
  readonly reloads: number;
  readonly state: string;
  readonly udp?: string;
  readonly interface?: string;
  readonly route?: string;
  readonly mtu?: number;
  readonly icmpv6Source?: string | null;
  readonly peers?: number;
  readonly trusted?: number;
  readonly maxPeers?: number;
  readonly queuedBytes?: number;
  readonly toTeredo?: { readonly packets: number; readonly bytes: number };
  readonly toNative?: { readonly packets: number; readonly bytes: number };
  readonly bubblesSent?: number;
  readonly bubblesReceived?: number;
  readonly mappingsProved?: number;
  readonly icmpv6Sent?: number;
  readonly icmpv6RateLimited?: number;
  readonly peersEvicted?: number;
  readonly peersExpired?: number;
  readonly drops?: Readonly<Record<string, number>>;
  readonly ioErrors?: number;
}

export async function runStatus(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const args = await yargs([...argv])
      .scriptName(`${AGENT_NAME} status`)
      .usage(`$0 [--json] [--instance NAME] [--timeout MS]\n\nShow the peers and counters of the ${AGENT_NAME} running in this network namespace.`)
      .strict()
      .exitProcess(false)
      .version(false)
      .help()
      .options({
        json: { type: 'boolean', default: false, describe: 'print the status object as JSON' },
        instance: { type: 'string', describe: 'instance name, when several run in one network namespace' },
        timeout: { type: 'number', default: 2000, describe: 'milliseconds to wait for an answer' },
      })
      .fail((msg: string | undefined, err: Error | undefined) => {
        throw new AgentError('USAGE', msg ?? err?.message ?? 'bad command line');
      })
      .parseAsync([...argv], {}, (_err, _argv, output) => {
        if (output) io.stdout(`${output}\n`);
      });
    if (args.help === true) return 0;
    if (!Number.isInteger(args.timeout) || args.timeout <= 0) throw new AgentError('USAGE', `--timeout (${args.timeout}) must be a positive integer`);
    const result = (await queryControl(controlName(AGENT_NAME, args.instance), { cmd: 'status' }, args.timeout)) as RelayStatus;
    io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatStatus(result));
    return 0;
  } catch (err) {
    io.stderr(`${AGENT_NAME}: ${formatAgentError(err)}\n`);
    return exitCodeFor(err);
  }
}

/** The human view: where it listens, the peer table, traffic each way, then drops by reason (largest first). */
export function formatStatus(s: RelayStatus): string {
  const lines = [`${AGENT_NAME}${s.instance ? ` (instance ${s.instance})` : ''}: ${s.state}, pid ${s.pid}, up ${duration(s.uptimeSec)}, ${s.reloads} reload${s.reloads === 1 ? '' : 's'}`];
  if (s.udp !== undefined) lines.push(`  UDP ${s.udp}, device ${s.interface ?? '?'} (route ${s.route ?? '?'}, MTU ${s.mtu ?? '?'}), ICMPv6 errors from ${s.icmpv6Source ?? 'none'}`);
  if (s.peers !== undefined) {
    lines.push(`  peers: ${s.peers} of ${s.maxPeers ?? '?'} (${s.trusted ?? 0} trusted), ${s.queuedBytes ?? 0} bytes queued; ${s.peersExpired ?? 0} expired, ${s.peersEvicted ?? 0} evicted`);
  }
  if (s.toTeredo && s.toNative) {
    lines.push(`  native -> Teredo: ${s.toTeredo.packets} packets, ${s.toTeredo.bytes} bytes`);
    lines.push(`  Teredo -> native: ${s.toNative.packets} packets, ${s.toNative.bytes} bytes`);
    lines.push(`  bubbles: ${s.bubblesSent ?? 0} sent, ${s.bubblesReceived ?? 0} received, ${s.mappingsProved ?? 0} symmetric mappings proved; ICMPv6 errors: ${s.icmpv6Sent ?? 0} sent, ${s.icmpv6RateLimited ?? 0} rate-limited`);
  }
  const drops = Object.entries(s.drops ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  lines.push(`  dropped: ${drops.reduce((n, [, v]) => n + v, 0)}${drops.length ? '' : ' (none)'}`);
  const width = Math.max(0, ...drops.map(([r]) => r.length));
  for (const [reason, n] of drops) lines.push(`    ${reason.padEnd(width)}  ${n}`);
  if (s.ioErrors) lines.push(`  i/o errors: ${s.ioErrors}`);
  return `${lines.join('\n')}\n`;
}

function duration(sec: number): string {
  const d = Math.floor(sec / 86_400);
  const h = Math.floor((sec % 86_400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', sec % 60 ? `${sec % 60}s` : ''].filter(Boolean);
  return parts.length ? parts.slice(0, 2).join('') : '0s';
}
