// `teredo-lab matrix`: brings up a zoo lab of its own, runs every NAT case (lab/matrix.ts) with each stack,
// prints one table and tears the lab down. `--stack ours --stack miredo` (the default) picks stacks: server,
// relay and clients of that implementation. Printed, never asserted.

import { cpus, loadavg, release } from 'node:os';
import type { CommandModule } from 'yargs';
import { LabError } from '../../lab/errors.js';
import { Lab } from '../../lab/lab.js';
import { MATRIX_CASES, matrixRows, runMatrix, type MatrixRow } from '../../lab/matrix.js';
import { table } from '../../lab/text-table.js';

interface MatrixArgs {
  stack?: string[];
  case?: string[];
}

export const matrixCommand: CommandModule<object, MatrixArgs> = {
  command: 'matrix',
  describe: 'run every NAT case of the zoo with each Teredo stack and print success and time to a working path',
  builder: (y) =>
    y
      .option('stack', { type: 'string', array: true, describe: 'implementation of server, relay and clients: ours, miredo (repeatable; default both)' })
      .option('case', { type: 'string', array: true, describe: `only these cases: ${MATRIX_CASES.map((c) => c.name).join(', ')}` }),
  handler: async (args) => {
    const unknown = (args.case ?? []).filter((c) => !MATRIX_CASES.some((x) => x.name === c));
    if (unknown.length) throw new LabError('LAB_BAD_ARGUMENT', `unknown case ${unknown.join(', ')}; cases: ${MATRIX_CASES.map((c) => c.name).join(', ')}`);
    const stacks = args.stack?.length ? args.stack : ['ours', 'miredo'];
    const log = (l: string): void => void process.stderr.write(`${l}\n`);
    const load = loadavg()[0]!.toFixed(2);
    const lab = await Lab.up({ ownerPid: process.pid, log, zoo: true });
    try {
      const rows: MatrixRow[] = [];
      for (const s of stacks) rows.push(await runMatrix(lab, s, log, args.case));
      process.stdout.write(`teredo-lab matrix: lab ${lab.id}, ${cpus().length} CPUs, Linux ${release()}, load ${load} at start\n\n${table(matrixRows(rows))}\n`);
    } finally {
      await lab.down();
    }
  },
};
