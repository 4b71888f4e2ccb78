// ra-sender declared for the agent host (src/runtime/host.ts): one AdvertisingInterface per configured interface
// (interface.ts: its own raw ICMPv6 socket and driver, opened through the host, following its link), a link poll
// every LINK_POLL_MS that feeds each the kernel's view of its link, SIGHUP reload (interfaces added, changed or
// removed: a removed interface sends its final RAs), stop (final RAs on every interface at once), and `status`.
// The renumbering state file (renumbering-state.ts) is read once at start and kept current at each poll, so a
// restart keeps deprecating the prefixes a previous run left on the hosts (RFC 9096).

import type { AgentDefinition } from '../../src/runtime/cli.js';
import type { TimerHandle } from '../../src/runtime/clock.js';
import { AgentError } from '../../src/runtime/errors.js';
import type { Host } from '../../src/runtime/host.js';
import { raSenderSpec, radvdConfImport, resolveInterfaces, type RaSenderAgentConfig } from './config.js';
import { AdvertisingInterface, lifecycleOptions } from './interface.js';
import { StateSaver, readState, stateFilePath } from './renumbering-state.js';
import { hostLinkReader, LINK_POLL_MS, type LinkReader } from './link.js';
import type { RaInterfaceSettings } from './settings.js';
import { formatRaSenderStatus, type RaSenderStatus } from './status.js';
import { raSenderMetrics } from './metrics.js';

/**
 * Up to 3 final RAs MIN_DELAY_BETWEEN_RAS (3 s) apart, after at most 3 s since the last RA: 9 s; the runtime's
 * 5 s default would cut the last ones off.
 */
const STOP_TIMEOUT_MS = 15_000;

function resolved(c: RaSenderAgentConfig): { interfaces: RaInterfaceSettings[]; warnings: string[] } {
  const r = resolveInterfaces(c);
  // The config loader ran the same checks: reaching here with errors would be a bug in the schema's check.
  if (Array.isArray(r)) throw new AgentError('CONFIG_INVALID', 'invalid configuration', { details: r });
  if (r.findings.errors.length > 0) throw new AgentError('CONFIG_INVALID', 'invalid configuration', { details: r.findings.errors });
  return { interfaces: r.interfaces, warnings: r.findings.warnings };
}

const warningsFor = (warnings: readonly string[], name: string): string[] => warnings.filter((w) => w.startsWith(`interface ${name}:`));

export async function setupRaSender(host: Host<RaSenderAgentConfig>, links: LinkReader = hostLinkReader(host.facts)) {
  const { logger } = host;
  const first = resolved(host.config);
  // systemd's StateDirectory= sets $STATE_DIRECTORY: the unit needs no --state-dir.
  const statePath = (c: RaSenderAgentConfig): string | undefined => {
    const dir = c.stateDir ?? process.env.STATE_DIRECTORY?.split(':')[0];
    return dir === undefined || dir === '' ? undefined : stateFilePath(dir, host.instance);
  };
  const path = statePath(host.config);
  const previous = path === undefined ? undefined : readState(path, Date.now());
  if (previous?.problem !== undefined) logger.warn({ path }, previous.problem);
  if (previous !== undefined && previous.interfaces.size > 0) logger.info({ path, interfaces: [...previous.interfaces.keys()] }, 'renumbering state read: prefixes a previous run advertised are deprecated if no longer advertised');
  const saver = new StateSaver(path, logger);
  const ifaces = new Map<string, AdvertisingInterface>();
  const options = lifecycleOptions(host.config);
  for (const s of first.interfaces) ifaces.set(s.name, new AdvertisingInterface(s, warningsFor(first.warnings, s.name), host, options, previous?.interfaces.get(s.name)));

  // A problem the live link shows at start (MTU option above the interface MTU, an option that does not fit)
  // is a start-up failure, as a config error would be; later (interface re-created) it only stops that one.
  const stopAll = () => Promise.all([...ifaces.values()].map((a) => a.stop()));
  try {
    for (const a of ifaces.values()) a.poll(links.read(a.name));
  } catch (err) {
    await stopAll();
    throw err instanceof AgentError ? err : new AgentError('IO_RAW_SOCKET', `cannot start advertising: ${(err as Error).message}`, { cause: err });
  }
  const refused = [...ifaces.values()].flatMap((a) => a.problems);
  if (refused.length > 0) {
    await stopAll();
    throw new AgentError('CONFIG_INVALID', 'invalid configuration for the interfaces as they are', { details: refused });
  }
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
    saver.save(ifaces.values(), host.clock.now());
  };
  let pollTimer: TimerHandle | undefined;
  let stopping = false;
  const schedulePoll = (): void => {
    pollTimer = host.timers.setTimer(() => {
      pollEach();
      if (!stopping) schedulePoll();
    }, LINK_POLL_MS);
  };
  schedulePoll();

  return {
    reload: async (config: RaSenderAgentConfig) => {
      const next = resolved(config);
      const options = lifecycleOptions(config);
      saver.path = statePath(config);
      const names = new Set(next.interfaces.map((s) => s.name));
      const removed = [...ifaces.values()].filter((a) => !names.has(a.name));
      for (const a of removed) ifaces.delete(a.name);
      for (const s of next.interfaces) {
        const existing = ifaces.get(s.name);
        if (existing) existing.reload(s, warningsFor(next.warnings, s.name), options);
        else ifaces.set(s.name, new AdvertisingInterface(s, warningsFor(next.warnings, s.name), host, options));
      }
      // New and changed interfaces take effect now (a socket that cannot be opened is retried each poll).
      pollEach();
      await Promise.all(removed.map((a) => a.stop()));
    },
    stop: async () => {
      stopping = true;
      if (pollTimer !== undefined) host.timers.clearTimer(pollTimer);
      await stopAll();
      saver.save(ifaces.values(), host.clock.now(), true);
    },
    status: (): RaSenderStatus => {
      const now = host.clock.now();
      return { interfaces: [...ifaces.values()].map((a) => a.status(now)) };
    },
  };
}

export const raSender: AgentDefinition<RaSenderAgentConfig, RaSenderStatus> = {
  name: 'ra-sender',
  description:
    'Router Advertisement sender (RFC 4861 §6.2): advertises prefixes for SLAAC, a default route, routes (RFC 4191) and DNS (RFC 8106) ' +
    'on the given interfaces, answers Router Solicitations, and takes a radvd.conf with --radvd-conf. `ra-sender status` shows its state.',
  config: raSenderSpec,
  imports: [radvdConfImport],
  setup: (host) => setupRaSender(host),
  formatStatus: formatRaSenderStatus,
  metrics: raSenderMetrics,
  stopTimeoutMs: STOP_TIMEOUT_MS,
};
