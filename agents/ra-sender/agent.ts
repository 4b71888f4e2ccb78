// The ra-sender agent: one AdvertisingInterface per configured interface, a link poll every LINK_POLL_MS that
// feeds each the kernel's view of its link, SIGHUP reload (interfaces added, changed or removed: a removed
// interface sends its final RAs), SIGTERM stop (final RAs on every interface at once), and `status`.

import type { AgentContext, RunningAgent } from '../../src/runtime/cli.js';
import type { Clock, TimerHandle, Timers } from '../../src/runtime/clock.js';
import { systemClock, systemTimers } from '../../src/runtime/clock.js';
import { AgentError } from '../../src/runtime/errors.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { openIcmpv6Socket, type Icmpv6SocketOptions } from '../../src/io/icmpv6-socket.js';
import type { Icmpv6Socket } from '../../src/io/ports.js';
import type { Random } from '../../src/engine/types.js';
import { resolveInterfaces, type RaSenderAgentConfig } from './config.js';
import { AdvertisingInterface } from './interface.js';
import { LINK_POLL_MS, procLinkReader, type LinkReader } from './link.js';
import type { RaInterfaceSettings } from './settings.js';
import type { RaSenderStatus } from './status.js';

/** Seams for tests; each defaults to the real thing. */
export interface RaSenderDeps {
  openSocket?: (options: Icmpv6SocketOptions) => Icmpv6Socket;
  links?: LinkReader;
  clock?: Clock;
  timers?: Timers;
  random?: Random;
}

function resolved(c: RaSenderAgentConfig): { interfaces: RaInterfaceSettings[]; warnings: string[] } {
  const r = resolveInterfaces(c);
  // loadConfig ran the same checks: reaching here with errors would be a bug in the schema's check.
  if (Array.isArray(r)) throw new AgentError('CONFIG_INVALID', 'invalid configuration', { details: r });
  if (r.findings.errors.length > 0) throw new AgentError('CONFIG_INVALID', 'invalid configuration', { details: r.findings.errors });
  return { interfaces: r.interfaces, warnings: r.findings.warnings };
}

const warningsFor = (warnings: readonly string[], name: string): string[] => warnings.filter((w) => w.startsWith(`interface ${name}:`));

export async function startRaSender(ctx: AgentContext<RaSenderAgentConfig>, deps: RaSenderDeps = {}): Promise<RunningAgent<RaSenderAgentConfig, RaSenderStatus>> {
  const { logger } = ctx;
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? systemTimers;
  const links = deps.links ?? procLinkReader;
  const ifaceDeps = { openSocket: deps.openSocket ?? openIcmpv6Socket, clock, ...(deps.timers ? { timers: deps.timers } : {}), random: deps.random ?? cryptoRandom, logger };

  const first = resolved(ctx.config);
  for (const w of first.warnings) logger.warn(w);
  const ifaces = new Map<string, AdvertisingInterface>();
  for (const s of first.interfaces) ifaces.set(s.name, new AdvertisingInterface(s, warningsFor(first.warnings, s.name), ifaceDeps));

  // A problem the live link shows at start (MTU option above the interface MTU, an option that does not fit)
  // is a start-up failure, as a config error would be; later (interface re-created) it only stops that one.
  const pollAll = (): void => {
    for (const a of ifaces.values()) a.poll(links.read(a.name));
  };
  // After start, one interface's failure (its socket cannot be opened: it vanished between the read and the
  // open) must not keep the others from being polled; it is retried at the next poll.
  const pollEach = (): void => {
    for (const a of ifaces.values()) {
      try {
        a.poll(links.read(a.name));
      } catch (err) {
        logger.error({ err, iface: a.name }, 'link poll failed');
      }
    }
  };
  try {
    pollAll();
  } catch (err) {
    await Promise.all([...ifaces.values()].map((a) => a.stop()));
    throw new AgentError('IO_RAW_SOCKET', `cannot start advertising: ${(err as Error).message}`, { cause: err });
  }
  const refused = [...ifaces.values()].flatMap((a) => a.problems);
  if (refused.length > 0) {
    await Promise.all([...ifaces.values()].map((a) => a.stop()));
    throw new AgentError('CONFIG_INVALID', 'invalid configuration for the interfaces as they are', { details: refused });
  }

  let pollTimer: TimerHandle | undefined;
  let stopping = false;
  const schedulePoll = (): void => {
    pollTimer = timers.setTimer(() => {
      pollEach();
      if (!stopping) schedulePoll();
    }, LINK_POLL_MS);
  };
  schedulePoll();

  return {
    reload: async (config) => {
      const next = resolved(config);
      for (const w of next.warnings) logger.warn(w);
      const names = new Set(next.interfaces.map((s) => s.name));
      const removed = [...ifaces.values()].filter((a) => !names.has(a.name));
      for (const a of removed) ifaces.delete(a.name);
      for (const s of next.interfaces) {
        const existing = ifaces.get(s.name);
        if (existing) existing.reload(s, warningsFor(next.warnings, s.name));
        else {
          const a = new AdvertisingInterface(s, warningsFor(next.warnings, s.name), ifaceDeps);
          ifaces.set(s.name, a);
        }
      }
      // New and changed interfaces take effect now (a socket that cannot be opened is retried each poll).
      pollEach();
      await Promise.all(removed.map((a) => a.stop()));
    },
    stop: async () => {
      stopping = true;
      if (pollTimer !== undefined) timers.clearTimer(pollTimer);
      await Promise.all([...ifaces.values()].map((a) => a.stop()));
    },
    status: () => {
      const now = clock.now();
      return { interfaces: [...ifaces.values()].map((a) => a.status(now)) };
    },
  };
}
