#!/usr/bin/env node
// rasadv: Remote Access Server Advertisement ([MS-RASA]) for Linux, two modes in one binary.
//
//   rasadv advertise [--hostname N] [--domain D] [--interface NAME|IPv4]... [--interval S] [--jitter S] ...
//   rasadv listen [--interface NAME|IPv4]... [--json] [--allow LIST|@FILE] [--once --timeout S] ...
//   rasadv advertise|listen --check-config | status [--json] | --help
//
// Each mode is a runtime AgentDefinition (src/runtime/cli.ts) named "rasadv advertise" / "rasadv listen", so
// help, --config, --check-config, `status`, pino logs and signals work as in every agent, and the two modes
// have separate control sockets (an advertiser and a listener can run in one network namespace).
//
// Exit codes: 0 ok; 1 start-up failure (bad config, interface not found, port not bindable); 2 usage;
// 3 `status` found nothing running; 4 `listen --once` heard at least one unknown RAS server (one not on
// --allow; without --allow every server is unknown).

import { pino } from 'pino';
import type { AgentDefinition } from '../../src/runtime/cli.js';
import { runAgentMain } from '../../src/runtime/cli.js';
import { advertiseSpec, listenSpec, type AdvertiseConfig, type ListenConfig } from './config.js';
import { startAdvertiser } from './advertise.js';
import { EXIT_UNKNOWN_SERVER, startListener } from './listen.js';
import { rasadvAdvertiseMetrics, rasadvListenMetrics } from './metrics.js';
import { formatAdvertiseStatus, formatListenStatus, type AdvertiseStatus, type ListenStatus } from './status.js';

const USAGE = `Usage: rasadv <advertise|listen> [options]

  rasadv advertise   multicast "Hostname=<name>" to 239.255.2.2:9753 at start and every interval
  rasadv listen      list the RAS servers advertising on the LAN, flag those not on --allow

Run 'rasadv advertise --help' or 'rasadv listen --help' for the options.
`;

const advertise: AgentDefinition<AdvertiseConfig, AdvertiseStatus> = {
  name: 'rasadv advertise',
  description: 'Advertise this host as a RAS server ([MS-RASA]): one datagram to 239.255.2.2:9753 (TTL 15) at start, then every --interval seconds; SIGUSR1 advertises at once.',
  config: advertiseSpec,
  start: (ctx) => startAdvertiser(ctx),
  formatStatus: formatAdvertiseStatus,
  metrics: rasadvAdvertiseMetrics,
};

const listen: AgentDefinition<ListenConfig, ListenStatus> = {
  name: 'rasadv listen',
  description: `List RAS servers advertising on 239.255.2.2:9753 like 'netsh ras show activeservers'. With --once --timeout S: exit ${EXIT_UNKNOWN_SERVER} if a server not on --allow was heard, else 0.`,
  config: listenSpec,
  start: (ctx) => startListener(ctx),
  formatStatus: formatListenStatus,
  metrics: rasadvListenMetrics,
  // A --once check (cron, monitoring) must be able to run next to a listening daemon, which holds the
  // default control socket name: unless --instance names one, it gets its own, whether once was set by a
  // flag or in the config file.
  defaultInstance: (c) => (c.once ? `once-${process.pid}` : undefined),
};

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'advertise') {
  await runAgentMain(advertise, { argv: rest });
} else if (mode === 'listen') {
  await runAgentMain(listen, {
    argv: rest,
    // stdout carries the server list; logs go to stderr in this mode.
    logDestination: pino.destination({ dest: 2, sync: true }),
  });
} else if (mode === undefined || mode === '--help' || mode === '-h' || mode === 'help') {
  process.stdout.write(USAGE);
  process.exitCode = mode === undefined ? 2 : 0;
} else {
  process.stderr.write(`rasadv: unknown mode ${JSON.stringify(mode)}\n${USAGE}`);
  process.exitCode = 2;
}
