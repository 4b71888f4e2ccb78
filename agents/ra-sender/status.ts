// `ra-sender status [--json] [--instance NAME] [--timeout MS]`: asks the ra-sender running in this network
// namespace over its control socket (src/runtime/control.ts) and prints, per interface, its state, RAs sent
// and RSs answered, drops by reason, warnings and the content of the last RA; --json prints the raw object.
// Exit codes as for every agent: 0, 3 when none runs here, 1 when it does not answer.

import yargs from 'yargs';
import type { CliIo } from '../../src/runtime/cli.js';
import { controlName, queryControl } from '../../src/runtime/control.js';
import { AgentError, exitCodeFor, formatAgentError } from '../../src/runtime/errors.js';

export const AGENT_NAME = 'ra-sender';

interface InterfaceStatus {
  readonly interface: string;
  readonly state: string;
  readonly linkLocal: string | null;
  readonly mtu: number | null;
  readonly forwarding: boolean | null;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly counters: Readonly<Record<string, number>> | null;
  readonly drops: Readonly<Record<string, number>>;
  readonly lastAdvertSecAgo: number | null;
  readonly nextAdvertInSec: number | null;
  readonly deprecated: readonly { prefix: string; remainingSec: number }[];
  readonly lastRa: Readonly<Record<string, unknown>> | null;
}

interface SenderStatus {
  readonly pid: number;
  readonly instance: string | null;
  readonly uptimeSec: number;
  readonly reloads: number;
  readonly state: string;
  readonly interfaces?: readonly InterfaceStatus[];
}

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
    const result = (await queryControl(controlName(AGENT_NAME, args.instance), { cmd: 'status' }, args.timeout)) as SenderStatus;
    io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatStatus(result));
    return 0;
  } catch (err) {
    io.stderr(`${AGENT_NAME}: ${formatAgentError(err)}\n`);
    return exitCodeFor(err);
  }
}

/** The human view: a paragraph per interface. */
export function formatStatus(s: SenderStatus): string {
  const lines = [`${AGENT_NAME}${s.instance ? ` (instance ${s.instance})` : ''}: ${s.state}, pid ${s.pid}, up ${s.uptimeSec} s, ${s.reloads} reload${s.reloads === 1 ? '' : 's'}`];
  for (const i of s.interfaces ?? []) {
    lines.push(`  ${i.interface}: ${i.state}${i.linkLocal ? ` from ${i.linkLocal}` : ''}, MTU ${i.mtu ?? '?'}, forwarding ${i.forwarding === null ? '?' : i.forwarding ? 'on' : 'off'}`);
    const c = i.counters;
    if (c) {
      lines.push(`    RAs sent: ${c.advertisements} (${c.finalAdvertisements} final), RSs: ${c.solicitations} received, ${c.answeredUnicast} answered by unicast, ${c.answeredMulticast} by multicast`);
      lines.push(`    last RA ${i.lastAdvertSecAgo === null ? 'never' : `${i.lastAdvertSecAgo} s ago`}, next in ${i.nextAdvertInSec === null ? '-' : `${i.nextAdvertInSec} s`}`);
    }
    for (const [reason, n] of Object.entries(i.drops).sort((a, b) => b[1] - a[1])) lines.push(`    dropped ${n} x ${reason}`);
    for (const d of i.deprecated) lines.push(`    deprecating ${d.prefix} (valid ${d.remainingSec} s more)`);
    for (const p of i.problems) lines.push(`    PROBLEM: ${p}`);
    for (const w of i.warnings) lines.push(`    WARNING: ${w}`);
    if (i.lastRa) lines.push(`    last RA: ${JSON.stringify(i.lastRa)}`);
  }
  return `${lines.join('\n')}\n`;
}
