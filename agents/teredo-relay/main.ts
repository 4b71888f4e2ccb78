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
// (miredo-conf.ts, turned into flags before the command line is parsed), --check-config (the systemd unit's
// ExecStartPre), pino JSON logs on stdout, SIGHUP reload, SIGTERM/SIGINT stop (route and device removed), and
// `status` over the control socket of this network namespace.
//
// Exit codes: 0 ok; 1 start-up failure (invalid config or Miredo file, a socket that cannot be bound, a TUN
// device that cannot be created); 2 usage; 3 `status` found no relay running in this network namespace.

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { runAgentMain } from '../../src/runtime/cli.js';
import { exitCodeFor, formatAgentError } from '../../src/runtime/errors.js';
import { relaySpec, type RelayAgentConfig } from './config.js';
import { expandMiredoConf } from './miredo-conf.js';
import { startTeredoRelay } from './relay.js';
import { teredoRelayMetrics } from './metrics.js';
import { AGENT_NAME, formatTeredoRelayStatus, type TeredoRelayStatus } from './status.js';

const teredoRelay: AgentDefinition<RelayAgentConfig, TeredoRelayStatus> = {
  name: AGENT_NAME,
  description:
    'Teredo relay (RFC 4380 §5.4): routes 2001::/32 into a TUN device and carries packets between Teredo clients over UDP and the ' +
    'native IPv6 network. --miredo-conf FILE reads a Miredo relay configuration (RelayType, InterfaceName, BindAddress, BindPort, ' +
    'InterfaceMTU, Prefix); flags given on the command line win. `teredo-relay status [--json]` shows peers and counters.',
  config: relaySpec,
  start: (ctx) => startTeredoRelay(ctx),
  formatStatus: formatTeredoRelayStatus,
  metrics: teredoRelayMetrics,
};

let argv: string[];
try {
  argv = expandMiredoConf(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${AGENT_NAME}: ${formatAgentError(err)}\n`);
  process.exit(exitCodeFor(err));
}
await runAgentMain(teredoRelay, { argv });
