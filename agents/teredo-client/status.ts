// `teredo-client status [--json] [--instance NAME] [--timeout MS]`: asks the client running in this network
// namespace over its control socket and prints what Windows' `netsh interface teredo show state` prints
// (Type, Server Name, Client Refresh Interval, Client Port, State, NAT, Local Mapping, External NAT Mapping),
// plus the Teredo address, peers, what cannot work from here, and the drop counters; or the raw JSON object.
// Exit codes: 0; 3 when no client runs here; 1 when it does not answer.

import yargs from 'yargs';
import type { CliIo } from '../../src/runtime/cli.js';
import { controlName, queryControl } from '../../src/runtime/control.js';
import { AgentError, exitCodeFor, formatAgentError } from '../../src/runtime/errors.js';
import { formatDuration } from '../../src/runtime/status.js';
import type { ClientStatusJson } from './status-data.js';

export const AGENT_NAME = 'teredo-client';

type FullStatus = Partial<ClientStatusJson> & {
  readonly pid?: number;
  readonly instance?: string | null;
  readonly uptimeSec?: number;
  readonly peers?: { readonly count: number; readonly trusted: number; readonly max: number };
  readonly drops?: Readonly<Record<string, number>>;
  readonly hook?: { command: string; runs: number; failures: number } | null;
};

export async function runStatus(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const args = await yargs([...argv])
      .scriptName(`${AGENT_NAME} status`)
      .usage(`$0 [--json] [--instance NAME] [--timeout MS]\n\nShow the state of the ${AGENT_NAME} running in this network namespace.`)
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
    const result = (await queryControl(controlName(AGENT_NAME, args.instance), { cmd: 'status' }, args.timeout)) as FullStatus;
    io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatStatus(result));
    return 0;
  } catch (err) {
    io.stderr(`${AGENT_NAME}: ${formatAgentError(err)}\n`);
    return exitCodeFor(err);
  }
}

const STATE_TEXT: Readonly<Record<string, string>> = {
  offline: 'offline',
  'probe-primary': 'probe (primary server)',
  'probe-secondary': 'probe (secondary server)',
  qualified: 'qualified',
};

/** The netsh layout: "Name : value" with the names padded to one column. */
export function formatStatus(s: FullStatus): string {
  const rows: [string, string][] = [
    ['Type', s.type ?? 'client'],
    ['Server Name', `${s.server ?? '?'}${s.serverAddress && s.serverAddress !== s.server ? ` (${s.serverAddress})` : ''}, secondary ${s.secondaryServerAddress ?? '?'}`],
    ['Client Refresh Interval', `${s.refreshIntervalSec ?? '?'} seconds`],
    ['Client Port', String(s.clientPort ?? 'unspecified')],
    ['State', STATE_TEXT[s.state ?? ''] ?? String(s.state)],
    ['Client Type', 'teredo client'],
    ['NAT', s.nat === 'unknown' ? '(unknown)' : String(s.nat)],
    ['Local Mapping', s.localMapping ?? '?'],
    ['External NAT Mapping', s.externalNatMapping ?? '-'],
    ['Teredo Address', s.address ?? '-'],
    ['Interface', `${s.interface ?? '?'}, MTU ${s.mtu ?? '?'}${s.defaultRoute ? ', default route' : ''}`],
  ];
  if (s.qualificationMs !== null && s.qualificationMs !== undefined) rows.push(['Qualified In', `${s.qualificationMs} ms (${s.qualification ?? '?'}), server RTT ${s.rttMs ?? '?'} ms`]);
  if (s.error) rows.push(['Error', `${s.error}${s.retryInSec !== null && s.retryInSec !== undefined ? `; retrying in ${s.retryInSec} s` : ''}`]);
  if (s.peers) rows.push(['Peers', `${s.peers.count} (${s.peers.trusted} trusted, at most ${s.peers.max})`]);
  if (s.hook) rows.push(['Hook', `${s.hook.command} (${s.hook.runs} runs, ${s.hook.failures} failed)`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const header = `${AGENT_NAME}${s.instance ? ` (instance ${s.instance})` : ''}: ${STATE_TEXT[s.state ?? ''] ?? String(s.state)}${s.pid !== undefined ? `, pid ${s.pid}` : ''}${s.uptimeSec !== undefined ? `, up ${formatDuration(s.uptimeSec)}` : ''}`;
  const lines = [header, ...rows.map(([k, v]) => `${k.padEnd(width)} : ${v}`)];
  for (const l of s.limitations ?? []) lines.push(`  cannot: ${l}`);
  const drops = Object.entries(s.drops ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  lines.push(`dropped: ${drops.reduce((n, [, v]) => n + v, 0)}${drops.length === 0 ? ' (none)' : ''}`);
  for (const [reason, n] of drops) lines.push(`  ${reason.padEnd(32)} ${n}`);
  return `${lines.join('\n')}\n`;
}
