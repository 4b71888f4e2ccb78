// Runs an agent declaration in process on the agent host with fake ports and a fake clock (the seams of
// src/runtime/host.ts HostDeps), as cli.ts would run it, minus the command line and the control socket; and the
// fake ports themselves, kept in the order the agent opened them.

import type { DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { AgentDefinition } from '../../src/runtime/cli.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { FakeTun } from '../fakes/fake-tun.js';
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

/** Fake sockets and TUN devices for HostDeps, each kept (with its options) in the order the agent opened them. */
export interface FakePorts {
  readonly ports: FakeDatagramPort[];
  readonly portOptions: DatagramPortOptions[];
  readonly tuns: FakeTun[];
  readonly openPort: NonNullable<HostDeps['openPort']>;
  readonly openTun: NonNullable<HostDeps['openTun']>;
}

/**
 * `failBind`: the IPv4 address (text) whose bind fails with EADDRNOTAVAIL, as the kernel says for an address the host
 * has not; `failTun`: creating a TUN device fails (EPERM); `ephemeral`: the port a bind to port 0 gets (+ one each).
 */
export function fakePorts(opts: { failBind?: string; failTun?: boolean; ephemeral?: number } = {}): FakePorts {
  const ports: FakeDatagramPort[] = [];
  const portOptions: DatagramPortOptions[] = [];
  const tuns: FakeTun[] = [];
  return {
    ports,
    portOptions,
    tuns,
    openPort: (o) => {
      if (opts.failBind === formatIpv4(o.address ?? 0)) {
        return Promise.reject(Object.assign(new Error('cannot bind'), { code: 'IO_UDP_BIND', cause: Object.assign(new Error('bind EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' }) }));
      }
      const port = o.port || (opts.ephemeral === undefined ? 0 : opts.ephemeral + ports.length);
      const p = new FakeDatagramPort({ addr: o.address ?? 0, port });
      ports.push(p);
      portOptions.push(o);
      return Promise.resolve(p);
    },
    openTun: (o) => {
      if (opts.failTun) throw new Error('open /dev/net/tun: EPERM');
      const t = new FakeTun(o.name);
      if (o.mtu !== undefined) t.setMtu(o.mtu);
      tuns.push(t);
      return t;
    },
  };
}
