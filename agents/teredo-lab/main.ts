#!/usr/bin/env node
// teredo-lab: builds the Teredo / RA / rasadv test network in Linux network namespaces and runs commands
// and occupants (our agents or reference implementations) in it. See docs/lab.md.
//
//   teredo-lab up [--zoo [nat-pf,nat-nhp,...]] [--server miredo] [--relay miredo] [--clients miredo] [--ra-sender radvd] [--preferred]
//   teredo-lab status | down [--all] | list | exec <node> -- <cmd...> | start <role> <impl> | stop <role>
//   teredo-lab nat <nat-node> reboot|block-udp|open-udp|restart-upnp   (zoo NATs)
//   teredo-lab bench [--stack miredo/miredo/ours] [--seconds 5]
//   teredo-lab matrix [--stack ours --stack miredo] [--case <name>]
//
// Exit codes: 0 success, 1 lab error (message on stderr), 2 usage error, otherwise the exec'd command's code.

import { spawnSync } from 'node:child_process';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Lab } from '../../lab/lab.js';
import { LabError } from '../../lab/errors.js';
import { assertRoot } from '../../lab/host.js';
import { ROLES, isRole, type OccupantRequest, type Role } from '../../lab/occupant.js';
import { loadRegistry } from '../../lab/registry.js';
import { choosePreferredOccupants, occupantRequests } from '../../lab/choose.js';
import { inNs } from '../../lab/run.js';
import { nodesTable, occupantsTable, tryCommands } from './print.js';
import { benchCommand } from './bench-command.js';
import { matrixCommand } from './matrix-command.js';
import { NAT_ACTIONS, natAction, type NatAction } from '../../lab/nat-zoo.js';
import { ZOO_SITES } from '../../lab/topology.js';

class UsageError extends Error {}

const EXIT_LAB = 1;
const EXIT_USAGE = 2;

/** CLI option name for each role (`--clients` reads better than `--client` since it fills every client node). */
const ROLE_OPTION: Readonly<Record<Role, string>> = {
  server: 'server',
  relay: 'relay',
  client: 'clients',
  'ra-sender': 'ra-sender',
  rasadv: 'rasadv',
  'rasadv-listener': 'rasadv-listeners',
};

const withId = <T>(y: Argv<T>) => y.option('id', { type: 'string', describe: 'lab id (tl + 2 hex digits); default: the only lab' });
const log = (line: string): void => void process.stderr.write(`${line}\n`);

// Loaded before parsing, so `up --help` lists the occupants that really exist for each role.
const registry = await loadRegistry();

async function up(args: Record<string, unknown>): Promise<void> {
  const requests: OccupantRequest[] = [];
  const preferredRoles: Role[] = [];
  for (const role of ROLES) {
    const impl = args[ROLE_OPTION[role]] as string | undefined;
    if (impl && impl !== 'none') requests.push({ role, impl: registry.get(role, impl).impl });
    else if (!impl && args['preferred']) preferredRoles.push(role);
  }
  // Installs what is missing before judging availability (a fresh host has no Miredo or radvd yet).
  if (preferredRoles.length > 0) requests.push(...occupantRequests(await choosePreferredOccupants({ registry, roles: preferredRoles, log })));
  const t0 = Date.now();
  const zoo = args['zoo'] as string | undefined;
  // `--zoo` alone builds every zoo site, `--zoo nat-pf,nat-nhp` those.
  const zooOption = zoo === undefined ? {} : { zoo: zoo === '' ? true : zoo.split(',').map((n) => n.trim()).filter(Boolean) };
  const lab = await Lab.up({ ...(args['id'] ? { id: args['id'] as string } : {}), occupants: requests, log, ...zooOption });
  process.stdout.write(`lab ${lab.id} is up (${Date.now() - t0} ms); state in ${lab.dir}\n\n${nodesTable(lab)}\n\n${await occupantsTable(lab)}\n\ntry:\n${tryCommands(lab)}\n`);
}

async function down(args: { id?: string; all?: boolean }): Promise<void> {
  assertRoot();
  const ids = args.all ? await Lab.list() : [args.id ?? Lab.attach().id];
  for (const id of ids) {
    const t0 = Date.now();
    const r = await Lab.down(id);
    process.stdout.write(`lab ${id} is down (${Date.now() - t0} ms): ${r.occupantsStopped} occupants stopped, ${r.namespacesDeleted} namespaces deleted\n`);
  }
  if (ids.length === 0) process.stdout.write('no lab to take down\n');
}

async function status(args: { id?: string; json?: boolean }): Promise<void> {
  const lab = Lab.attach(args.id);
  if (args.json) {
    const occupants = await Promise.all(lab.occupants().map(async (o) => ({ ...o, status: await lab.occupantStatus(o) })));
    process.stdout.write(JSON.stringify({ ...lab.state(), occupants }, null, 2) + '\n');
    return;
  }
  const s = lab.state();
  process.stdout.write(`lab ${lab.id}: ${s.phase} since ${s.createdAt}${s.ownerPid ? ` (owned by pid ${s.ownerPid})` : ''}\n\n${nodesTable(lab)}\n\n${await occupantsTable(lab)}\n`);
}

function execIn(args: { id?: string; node: string; '--'?: (string | number)[] }): void {
  assertRoot();
  const cmd = (args['--'] ?? []).map(String);
  if (cmd.length === 0) throw new UsageError('exec needs a command after --, e.g. teredo-lab exec cli-prc -- ip addr');
  const lab = Lab.attach(args.id);
  const [bin, ...rest] = inNs(lab.ns(args.node), cmd);
  const r = spawnSync(bin!, rest, { stdio: 'inherit' });
  process.exitCode = r.status ?? 128 + 9;
}

async function start(args: { id?: string; role: string; impl: string; node?: string }): Promise<void> {
  assertRoot();
  if (!isRole(args.role)) throw new UsageError(`unknown role ${args.role}; roles: ${ROLES.join(', ')}`);
  const lab = Lab.attach(args.id);
  const recs = await lab.startOccupants([{ role: args.role, impl: args.impl, ...(args.node ? { node: args.node } : {}) }]);
  for (const r of recs) process.stdout.write(`${r.key}: ${r.impl} pid ${r.proc.pid}, ready after ${r.readyAfterMs} ms\n`);
}

async function stop(args: { id?: string; role: string; node?: string }): Promise<void> {
  assertRoot();
  const lab = Lab.attach(args.id);
  const keys = lab.occupants().filter((o) => o.role === args.role && (!args.node || o.node === args.node)).map((o) => o.key);
  for (const k of keys) await lab.stopOccupant(k);
  process.stdout.write(keys.length ? `stopped ${keys.join(', ')}\n` : `no ${args.role} occupant is running\n`);
}

async function nat(args: { id?: string; node: string; action: string }): Promise<void> {
  assertRoot();
  if (!(NAT_ACTIONS as readonly string[]).includes(args.action)) throw new UsageError(`unknown action ${args.action}; actions: ${NAT_ACTIONS.join(', ')}`);
  await natAction(Lab.attach(args.id), args.node, args.action as NatAction);
  process.stdout.write(`${args.node}: ${args.action} done\n`);
}

try {
  const cli = yargs(hideBin(process.argv))
    .scriptName('teredo-lab')
    .parserConfiguration({ 'populate--': true })
    .command(
      'up',
      'build a lab (and start occupants)',
      (y) => {
        let o = withId(y)
          .option('zoo', { type: 'string', describe: `also build the NAT zoo (port forward, hairpin, CGNAT, sequential, 30 s, reboot, UDP block, loss and delay); --zoo nat-pf,nat-nhp builds only those of ${ZOO_SITES.map((z) => z.nat).join(', ')}` })
          .option('preferred', { type: 'boolean', describe: 'fill every role: our agent where it exists, else the reference implementation' });
        for (const role of ROLES) o = o.option(ROLE_OPTION[role], { type: 'string', describe: `occupant for ${role}: ${[...registry.implsFor(role), 'none'].join(', ')}` });
        return o;
      },
      (a) => up(a),
    )
    .command('down', 'tear a lab down (idempotent)', (y) => withId(y).option('all', { type: 'boolean', describe: 'every lab on this machine' }), (a) => down(a))
    .command('status', 'show nodes, addresses and occupants', (y) => withId(y).option('json', { type: 'boolean' }), (a) => status(a))
    .command('list', 'list lab ids, one per line (nothing when no lab is up)', (y) => y, async () => {
      for (const id of await Lab.list()) process.stdout.write(`${id}\n`);
    })
    .command('exec <node>', 'run a command in a node: exec <node> -- <cmd...>', (y) => withId(y).positional('node', { type: 'string', demandOption: true }), (a) => execIn(a))
    .command(
      'start <role> <impl>',
      'start an occupant in a running lab',
      (y) => withId(y).positional('role', { type: 'string', demandOption: true }).positional('impl', { type: 'string', demandOption: true }).option('node', { type: 'string' }),
      (a) => start(a),
    )
    .command('stop <role>', 'stop the occupants of a role', (y) => withId(y).positional('role', { type: 'string', demandOption: true }).option('node', { type: 'string' }), (a) => stop(a))
    .command(
      'nat <node> <action>',
      `change a running zoo NAT: ${NAT_ACTIONS.join(', ')}`,
      (y) => withId(y).positional('node', { type: 'string', demandOption: true }).positional('action', { type: 'string', demandOption: true }),
      (a) => nat(a),
    )
    .command(benchCommand)
    .command(matrixCommand);
  await cli
    .demandCommand(1, 'a command is required: up, down, status, list, exec, start, stop, nat, bench, matrix')
    .strict()
    .version(false)
    .help()
    .fail((message: string | undefined, err: Error | undefined) => {
      if (err) throw err;
      throw new UsageError(message ?? 'invalid command line');
    })
    .parseAsync();
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`teredo-lab: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else if (err instanceof LabError) {
    process.stderr.write(`teredo-lab: ${err.message}\n`);
    process.exitCode = EXIT_LAB;
  } else {
    throw err;
  }
}
