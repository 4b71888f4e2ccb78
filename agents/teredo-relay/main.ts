#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// teredo-relay: an RFC 4380 §5.4 Teredo relay between Teredo clients (UDP) and the native IPv6 network (a TUN
// device routing 2001::/32). The declaration is agent.ts; the runtime (src/runtime/cli.ts) gives it the common
// command line (--config or --miredo-conf, --check-config, --log-level, --instance, --metrics, `status`), logs,
// signals and exit codes (docs/operations.md).

import { runAgentMain } from '../../src/runtime/cli.js';
import { teredoRelay } from './agent.js';

await runAgentMain(teredoRelay);
