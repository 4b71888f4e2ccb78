#!/usr/bin/env node
// teredo-relay: an RFC 4380 §5.4 Teredo relay between Teredo clients (UDP) and the native IPv6 network (a TUN
// device routing 2001::/32).
//
//   teredo-relay [--interface NAME] [--bind <IPv4>] [--port N] [--mtu N] [--config FILE] [--log-level L]
//                [--miredo-conf FILE] [--max-peers N] [--queue-bytes N] [--honor-cone-bit] [--direct-bubbles]
//                [--no-accept-unknown-peers] [--icmpv6-source ADDR] [--icmpv6-rate N] [--check-config] ...
//   teredo-relay status [--json] [--instance NAME]
//
// Runs on the shared runtime (src/runtime/cli.ts): JSON config file with flags on top, a Miredo relay file
// (miredo-conf.ts) read at start, --check-config (the systemd unit's ExecStartPre), pino JSON logs on stdout,
// SIGHUP reload, SIGTERM/SIGINT stop (route and device removed), and a control socket in the abstract
// namespace of this network namespace, which `status` queries.
//
// Exit codes: 0 ok; 1 start-up failure (invalid config, a socket that cannot be bound, a TUN device that cannot
// be created); 2 usage; 3 `status` found no relay running in this network namespace.

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { runAgentMain } from '../../src/runtime/cli.js';
import { formatAgentError, exitCodeFor } from '../../src/runtime/errors.js';
import { relaySpec, type RelayAgentConfig } from './config.js';
import { expandMiredoConf } from './miredo-conf.js';
import { startTeredoRelay } from './relay.js';
import { AGENT_NAME, runStatus } from './status.js';

const teredoRelay: AgentDefinition<RelayAgentConfig> = {
  name: AGENT_NAME,
  description:
    'Teredo relay (RFC 4380 §5.4): routes 2001::/32 into a TUN device and carries packets between Teredo clients over UDP and the ' +
    'native IPv6 network. --miredo-conf FILE reads a Miredo relay configuration (RelayType, InterfaceName, BindAddress, BindPort, ' +
    'InterfaceMTU, Prefix); flags given on the command line win. `teredo-relay status [--json]` shows peers and counters.',
  config: relaySpec,
  start: (ctx) => startTeredoRelay(ctx),
};

const io = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) };
let argv: string[];
try {
  argv = expandMiredoConf(process.argv.slice(2));
} catch (err) {
  io.stderr(`${AGENT_NAME}: ${formatAgentError(err)}\n`);
  process.exit(exitCodeFor(err));
}
if (argv[0] === 'status') {
  // Handled here rather than by the runtime's generic `status`, which prints JSON only.
  process.exitCode = await runStatus(argv.slice(1), io);
} else {
  await runAgentMain(teredoRelay, { argv });
}
