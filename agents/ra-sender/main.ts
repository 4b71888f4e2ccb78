#!/usr/bin/env node
// ra-sender: an RFC 4861 Router Advertisement sender that Linux hosts autoconfigure from, and a radvd drop-in.
//
//   ra-sender --interface NAME [--prefix P/LEN|auto]... [--router-lifetime S] [--mtu N] [--managed] [--other]
//             [--rdnss ADDR]... [--dnssl DOMAIN]... [--route P/LEN]... [--min-interval S] [--max-interval S]
//             [--config FILE] [--radvd-conf FILE] [--check-config] [--log-level L] [--instance NAME]
//   ra-sender status [--json] [--instance NAME] [--timeout MS]
//
// Runs on the shared runtime (src/runtime/cli.ts): JSON config file with flags on top (or a radvd.conf),
// --check-config, pino JSON logs on stdout, SIGHUP reload (removed prefixes are deprecated), SIGTERM/SIGINT
// stop with final RAs (router lifetime 0, RFC 4861 §6.2.5), and `status` over the control socket.
//
// Exit codes: 0 ok; 1 start-up failure (invalid config, an MTU above the interface's, no raw socket);
// 2 usage; 3 `status` found no ra-sender running in this network namespace.

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { runAgentMain } from '../../src/runtime/cli.js';
import { raSenderSpec, type RaSenderAgentConfig } from './config.js';
import { startRaSender } from './agent.js';
import { raSenderMetrics } from './metrics.js';
import { formatRaSenderStatus, type RaSenderStatus } from './status.js';

/**
 * Up to 3 final RAs MIN_DELAY_BETWEEN_RAS (3 s) apart, after at most 3 s since the last RA: 9 s; the runtime's
 * 5 s default would cut the last ones off.
 */
const STOP_TIMEOUT_MS = 15_000;

const raSender: AgentDefinition<RaSenderAgentConfig, RaSenderStatus> = {
  name: 'ra-sender',
  description:
    'Router Advertisement sender (RFC 4861 §6.2): advertises prefixes for SLAAC, a default route, routes (RFC 4191) and DNS (RFC 8106) ' +
    'on the given interfaces, answers Router Solicitations, and takes a radvd.conf with --radvd-conf. `ra-sender status` shows its state.',
  config: raSenderSpec,
  start: (ctx) => startRaSender(ctx),
  formatStatus: formatRaSenderStatus,
  metrics: raSenderMetrics,
};

await runAgentMain(raSender, { stopTimeoutMs: STOP_TIMEOUT_MS });
