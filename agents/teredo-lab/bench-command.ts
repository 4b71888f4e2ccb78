// `teredo-lab bench`: brings up a lab of its own, measures each Teredo stack (see lab/bench.ts), prints
// one table and tears the lab down. `--stack server/relay/client` picks stacks (repeatable); the default is
// the reference stack (Miredo everywhere) plus ours wherever our agents exist.

import { cpus, loadavg, release } from 'node:os';
import type { CommandModule } from 'yargs';
import { benchNative, benchRows, benchStack, stackLabel, type Stack, type StackResult } from '../../lab/bench.js';
import { LabError } from '../../lab/errors.js';
import { Lab } from '../../lab/lab.js';
import { loadRegistry } from '../../lab/registry.js';
import { table } from '../../lab/text-table.js';

interface BenchArgs {
  stack?: string[];
  seconds: number;
}

async function defaultStacks(): Promise<Stack[]> {
  const registry = await loadRegistry();
  const reference: Stack = { server: 'miredo', relay: 'miredo', client: 'miredo' };
  const pick = async (role: 'server' | 'relay' | 'client'): Promise<string> => (await registry.preferred(role))?.impl ?? 'miredo';
  const preferred: Stack = { server: await pick('server'), relay: await pick('relay'), client: await pick('client') };
  return stackLabel(preferred) === stackLabel(reference) ? [reference] : [reference, preferred];
}

function parseStack(s: string): Stack {
  const [server, relay, client, ...rest] = s.split('/');
  if (!server || !relay || !client || rest.length) throw new LabError('LAB_BAD_ARGUMENT', `--stack wants server/relay/client, e.g. miredo/miredo/ours; got ${s}`);
  return { server, relay, client };
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'measure Teredo stacks side by side on a fresh lab (printed, never asserted)',
  builder: (y) =>
    y
      .option('stack', { type: 'string', array: true, describe: 'server/relay/client implementations, e.g. miredo/miredo/ours (repeatable)' })
      .option('seconds', { type: 'number', default: 5, describe: 'duration of each iperf3 run (1..600)' }),
  handler: async (args) => {
    // Checked before any lab is built (yargs turns "abc" into NaN).
    if (!(Number.isFinite(args.seconds) && args.seconds >= 1 && args.seconds <= 600)) {
      throw new LabError('LAB_BAD_ARGUMENT', `--seconds must be a number from 1 to 600, got ${String(args.seconds)}`);
    }
    const stacks = args.stack?.length ? args.stack.map(parseStack) : await defaultStacks();
    const log = (l: string): void => void process.stderr.write(`${l}\n`);
    const load = loadavg()[0]!.toFixed(2);
    const t0 = Date.now();
    const lab = await Lab.up({ ownerPid: process.pid, log });
    const upMs = Date.now() - t0;
    try {
      const results: StackResult[] = [];
      for (const s of stacks) results.push(await benchStack(lab, s, { seconds: args.seconds, log }));
      const native = await benchNative(lab, { seconds: args.seconds, log });
      process.stdout.write(
        `teredo-lab bench: lab ${lab.id} (up in ${upMs} ms), ${cpus().length} CPUs, Linux ${release()}, load ${load} at start; stacks are server/relay/client\n\n` +
          table(benchRows(results, native)) +
          '\n',
      );
    } finally {
      const t1 = Date.now();
      await lab.down();
      log(`bench: lab ${lab.id} down in ${Date.now() - t1} ms`);
    }
  },
};
