#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// rasadv: Remote Access Server Advertisement ([MS-RASA]) for Linux, two modes in one binary.
//
//   rasadv advertise [--hostname N] [--domain D] [--interface NAME|IPv4]... [--interval S] [--jitter S] ...
//   rasadv listen [--interface NAME|IPv4]... [--json] [--allow LIST|@FILE] [--once --timeout S] ...
//   rasadv advertise|listen --check-config | status [--json] | --help
//
// Each mode is an agent declaration (advertise.ts, listen.ts) named "rasadv advertise" / "rasadv listen", so
// help, --config, --check-config, `status`, pino logs and signals work as in every agent, and the two modes
// have separate control sockets (an advertiser and a listener can run in one network namespace).
//
// Exit codes: 0 ok; 1 start-up failure (bad config, interface not found, port not bindable); 2 usage;
// 3 `status` found nothing running; 4 `listen --once` heard at least one unknown RAS server (one not on
// --allow; without --allow every server is unknown).

import { pino } from 'pino';
import { runAgentMain } from '../../src/runtime/cli.js';
import { rasadvAdvertise } from './advertise.js';
import { rasadvListen } from './listen.js';

const USAGE = `Usage: rasadv <advertise|listen> [options]

  rasadv advertise   multicast "Hostname=<name>" to 239.255.2.2:9753 at start and every interval
  rasadv listen      list the RAS servers advertising on the LAN, flag those not on --allow

Run 'rasadv advertise --help' or 'rasadv listen --help' for the options.
`;

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'advertise') {
  await runAgentMain(rasadvAdvertise, { argv: rest });
} else if (mode === 'listen') {
  await runAgentMain(rasadvListen, {
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
