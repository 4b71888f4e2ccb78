#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// teredo-server: an RFC 4380 §5.3 Teredo server on two IPv4 addresses. The declaration is agent.ts; the runtime
// (src/runtime/cli.ts) gives it the common command line (--config or --miredo-conf, --check-config, --log-level,
// --instance, --metrics, `status`), logs, signals and exit codes (docs/operations.md). Start-up fails (exit 1)
// on an address it cannot bind, a TUN device it cannot create, or a raw IPv6 socket it may not open.

import { runAgentMain } from '../../src/runtime/cli.js';
import { teredoServer } from './agent.js';

await runAgentMain(teredoServer);
