#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// ra-sender: an RFC 4861 Router Advertisement sender that Linux hosts autoconfigure from, and a radvd drop-in.
// The declaration is agent.ts; the runtime (src/runtime/cli.ts) gives it the common command line (--config or
// --radvd-conf, --check-config, --log-level, --instance, --metrics, `status`), logs, signals and exit codes
// (docs/operations.md). Stop sends final RAs (router lifetime 0, RFC 4861 §6.2.5).

import { runAgentMain } from '../../src/runtime/cli.js';
import { raSender } from './agent.js';

await runAgentMain(raSender);
