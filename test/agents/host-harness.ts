// Runs an agent declaration in process on the agent host with fake ports and a fake clock (the seams of
// src/runtime/host.ts HostDeps), as cli.ts would run it, minus the command line and the control socket.

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { runAgent, type AgentParts, type CommonConfig, type Host, type HostDeps, type RunningAgent } from '../../src/runtime/host.js';
import { capturedLogger } from '../fakes/log-capture.js';

export interface HostedAgent<C, S> {
  readonly agent: RunningAgent<C, S>;
  readonly log: ReturnType<typeof capturedLogger>;
  /** Reasons passed to host.fatal. */
  readonly fatal: string[];
  /** The exit code passed with each of them (undefined: the default, 1). */
  readonly exitCodes: (number | undefined)[];
}

/** Starts `def` (or `setup`, for an agent's seams such as the client's resolver) with `config` on a host with `deps`. */
export async function startOnHost<C extends CommonConfig, S>(
  def: AgentDefinition<C, S>,
  config: C,
  deps: HostDeps,
  setup: (host: Host<C>) => Promise<AgentParts<C, S>> | AgentParts<C, S> = (h) => def.setup(h),
): Promise<HostedAgent<C, S>> {
  const log = capturedLogger(`${def.name} test`);
  const fatal: string[] = [];
  const exitCodes: (number | undefined)[] = [];
  const onFatal = (reason: string, exitCode?: number): void => {
    fatal.push(reason);
    exitCodes.push(exitCode);
  };
  const agent = await runAgent(def.config, setup, { name: def.name, instance: undefined, config, logger: log.logger, fatal: onFatal }, deps);
  return { agent, log, fatal, exitCodes };
}
