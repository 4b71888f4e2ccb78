// `teredo-server status [--json] [--instance NAME] [--timeout MS]`: asks the server running in this network
// namespace over its control socket (src/runtime/control.ts) and prints its counters, as a table for people or
// as the raw JSON object for scripts. Exit codes as for every agent: 0, 3 when no server runs here, 1 when it
// does not answer.

import yargs from 'yargs';
import type { CliIo } from '../../src/runtime/cli.js';
import { controlName, queryControl } from '../../src/runtime/control.js';
import { AgentError, exitCodeFor, formatAgentError } from '../../src/runtime/errors.js';

export const AGENT_NAME = 'teredo-server';

/** The fields `status` relies on (what server.ts status() returns, plus the runtime's base fields). */
export interface ServerStatus {
  readonly pid: number;
  readonly instance: string | null;
  readonly uptimeSec: number;
  readonly reloads: number;
  readonly state: string;
  readonly addresses?: { readonly primary: string; readonly secondary: string };
  readonly prefix?: string;
  readonly mtu?: number;
  readonly forwardInterface?: string | null;
  /** How packets for native IPv6 leave (raw socket, TUN device, or dropped), and whether a route exists. */
  readonly nativeForwarding?: string;
  readonly nativeIpv6Route?: boolean | null;
  readonly forwardIcmpv6MaxPayload?: number;
  readonly rsAnswered?: { readonly primary: number; readonly secondary: number };
  readonly raSent?: { readonly primary: number; readonly secondary: number };
  readonly raWithNonce?: number;
  readonly forwarded?: { readonly teredo: number; readonly withOrigin: number; readonly native: number; readonly fromTun: number };
  readonly drops?: Readonly<Record<string, number>>;
  readonly ioErrors?: number;
}

export async function runStatus(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const args = await yargs([...argv])
      .scriptName(`${AGENT_NAME} status`)
      .usage(`$0 [--json] [--instance NAME] [--timeout MS]\n\nShow the counters of the ${AGENT_NAME} running in this network namespace.`)
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
    const result = (await queryControl(controlName(AGENT_NAME, args.instance), { cmd: 'status' }, args.timeout)) as ServerStatus;
    io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatStatus(result));
    return 0;
  } catch (err) {
    io.stderr(`${AGENT_NAME}: ${formatAgentError(err)}\n`);
    return exitCodeFor(err);
  }
}

/** The human view: one line per address, then forwards and drops by reason (largest first). */
export function formatStatus(s: ServerStatus): string {
  const lines = [`${AGENT_NAME}${s.instance ? ` (instance ${s.instance})` : ''}: ${s.state}, pid ${s.pid}, up ${duration(s.uptimeSec)}, ${s.reloads} reload${s.reloads === 1 ? '' : 's'}`];
  if (s.addresses && s.rsAnswered && s.raSent) {
    const rows: string[][] = [
      ['', 'address', 'RS answered', 'RA sent'],
      ['primary', s.addresses.primary, String(s.rsAnswered.primary), String(s.raSent.primary)],
      ['secondary', s.addresses.secondary, String(s.rsAnswered.secondary), String(s.raSent.secondary)],
    ];
    lines.push(...table(rows).map((l) => `  ${l}`));
    lines.push(`  prefix ${s.prefix ?? '?'}, MTU ${s.mtu ?? '?'}, forward interface ${s.forwardInterface ?? 'none'}, ICMPv6 forward limit ${s.forwardIcmpv6MaxPayload ?? '?'} bytes`);
    lines.push(`  RAs echoing a nonce: ${s.raWithNonce ?? 0}`);
    if (s.nativeForwarding !== undefined) lines.push(`  native IPv6 forwarding: ${s.nativeForwarding}${s.nativeIpv6Route === false ? ' (this host has no IPv6 route: such packets fail)' : ''}`);
  }
  if (s.forwarded) {
    const f = s.forwarded;
    lines.push(`  forwarded: ${f.teredo} to Teredo mappings (${f.withOrigin} with origin indication), ${f.native} to native IPv6, ${f.fromTun} from native IPv6`);
  }
  const drops = Object.entries(s.drops ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = drops.reduce((n, [, v]) => n + v, 0);
  lines.push(`  dropped: ${total}${drops.length ? '' : ' (none)'}`);
  lines.push(...table(drops.map(([reason, n]) => [reason, String(n)])).map((l) => `    ${l}`));
  if (s.ioErrors) lines.push(`  i/o errors: ${s.ioErrors}`);
  return `${lines.join('\n')}\n`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function duration(sec: number): string {
  const d = Math.floor(sec / 86_400);
  const h = Math.floor((sec % 86_400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', sec % 60 ? `${sec % 60}s` : ''].filter(Boolean);
  return parts.length ? parts.slice(0, 2).join('') : '0s';
}
