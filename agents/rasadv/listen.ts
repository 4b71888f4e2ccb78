// `rasadv listen`: the listener side of [MS-RASA] (§3.2.3: listen on UDP 9753 and join 239.255.2.2; §3.2.5:
// hand the message and the source address to the application) plus the application itself: the table of
// active servers (RasAdvListenerTable), printed like `netsh ras show activeservers` or as JSON lines.
//
// One socket, bound to 239.255.2.2:9753 rather than 0.0.0.0:9753: on Linux a socket bound to the wildcard
// receives port-9753 datagrams of every group any socket of the host joined, binding to the group filters
// them. SO_REUSEADDR lets a `--once` check from cron run next to a listening daemon. The group is joined on
// every chosen interface (default: every non-loopback IPv4 interface). Output goes to stdout; logs go to
// stderr in this mode (main.ts) so stdout stays machine-readable.
//
// Each sender's reverse DNS name is looked up (reverse-dns.ts: cached, bounded, 2 s timeout) unless
// --no-resolve. A block whose sender's name is not cached yet is held until the lookup answers or times out,
// so the first block of a server already shows its name as netsh's does; blocks of one sender keep their
// order, blocks of different senders may swap (each carries the time of its event). A cached name (or a
// cached failure) is printed at once, so a server heard again costs no DNS and no delay.
//
// SIGHUP (reload) applies a new allow list, re-reading @files, and re-judges every server heard so far; the
// other settings need a restart (config.ts: only `allow` is live; the host says so).
//
// --once --timeout N: listen N seconds, then stop through the runtime's graceful path (host.fatal) with exit
// code 0 when no unknown server was heard, EXIT_UNKNOWN_SERVER (4) when one was.

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { AgentError } from '../../src/runtime/errors.js';
import type { Host } from '../../src/runtime/host.js';
import { LogRateLimiter } from '../../src/runtime/logger.js';
import { RasAdvListenerTable, type AdvertisementEvent, type ListenerSink, type ServerEntry } from '../../src/engine/rasadv/listener.js';
import { allowListSize } from '../../src/engine/rasadv/allow.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { RASADV_GROUP, RASADV_PORT } from '../../src/wire/rasadv.js';
import { listenSpec, loadAllowList, staleAfterMs, type ListenConfig } from './config.js';
import { allIpv4Interfaces, resolveInterfaces } from './interfaces.js';
import { NETSH_HEADER, jsonLine, serverJson, summaryFields, textBlock, type ListenerCounts, type WallClock } from './format.js';
import { formatListenStatus, type ListenStatus } from './status.js';
import { ReverseNames, systemReverseResolver, type ReverseResolver } from './reverse-dns.js';
import { rasadvListenMetrics } from './metrics.js';

/** `rasadv listen --once` exit code when at least one unknown RAS server was heard. */
export const EXIT_UNKNOWN_SERVER = 4;

/**
 * Repeated lines are logged at most once a minute (with the number suppressed): a flood of new (spoofed)
 * senders evicts on every datagram, and a socket error may repeat on every receive.
 */
const REPEAT_LOG_INTERVAL_MS = 60_000;

/**
 * "unknown RAS server" warnings are the alert this tool exists for, so each is logged, but at most this many a
 * minute: spoofed senders with changing names would otherwise turn a datagram flood into a log flood. The
 * output (stdout) still lists every server; the next warning carries the number suppressed.
 */
const UNKNOWN_WARNINGS_PER_MINUTE = 20;

export interface ListenerHooks {
  /** Writes to stdout (tests capture it). */
  write?: (text: string) => void;
  /** Reverse DNS (default: node:dns, one try of 2 s). */
  resolver?: ReverseResolver;
}

export async function setupListener(host: Host<ListenConfig>, hooks: ListenerHooks = {}) {
  const { config: c, logger, clock, timers } = host;
  const write = hooks.write ?? ((t: string) => void process.stdout.write(t));
  const epoch = Date.now() - clock.now();
  const wall: WallClock = (mono) => new Date(epoch + mono);
  let allow = loadAllowList(c.allow);

  const ifaces = c.interfaces.length === 0 ? allIpv4Interfaces(host.facts) : resolveInterfaces(c.interfaces, host.facts);
  if (ifaces.length === 0) throw new AgentError('IO_INTERFACE', 'no interface with an IPv4 address to listen on; use --interface');
  const group = parseIpv4(RASADV_GROUP);
  const port = await host.udp('udp', { address: group, port: RASADV_PORT, reuseAddr: true });
  try {
    for (const i of ifaces) port.joinGroup(group, i.addr);
  } catch (err) {
    throw new AgentError('IO_INTERFACE', `cannot join ${RASADV_GROUP}: ${(err as Error).message}`, { cause: err });
  }

  const servers = new RasAdvListenerTable({ staleAfterMs: staleAfterMs(c), ...(allow ? { allow } : {}), maxEntries: c.maxServers, ...(c.maxTableBytes === undefined ? {} : { maxBytes: c.maxTableBytes }) });
  let unknownHeard = false;
  const repeated = new LogRateLimiter(REPEAT_LOG_INTERVAL_MS);
  const unknownWarnings = new LogRateLimiter(60_000, UNKNOWN_WARNINGS_PER_MINUTE);
  const warnUnknown = (fields: Record<string, unknown>): void => {
    const suppressed = unknownWarnings.allow('unknown', clock.now());
    if (suppressed !== undefined) logger.warn({ ...fields, suppressed }, 'unknown RAS server');
  };
  const names = c.resolve ? new ReverseNames(hooks.resolver ?? systemReverseResolver(), clock, timers) : undefined;
  const dnsName = (sender: number): string | null | undefined => names?.peek(formatIpv4(sender));
  const print = (kind: 'advertisement' | 'stale', lent: ServerEntry, extra: Record<string, unknown> = {}): void => {
    const at = new Date();
    // The table lends its live entry and updates it in place: render from a copy taken now, whenever the name arrives.
    const server = { ...lent };
    const allowList = allow !== undefined;
    const render = (name: string | null | undefined): void => {
      if (c.json) write(jsonLine(kind, { ...extra, ...serverJson(server, wall, name) }, at));
      else write(textBlock(server, at, wall, { allowList, stale: kind === 'stale', dnsName: name }));
    };
    if (names) names.withName(formatIpv4(server.sender), render);
    else render(null);
  };
  const who = (s: ServerEntry) => ({ sender: formatIpv4(s.sender), hostname: s.hostname, domain: s.domain ?? null, known: s.known });
  const sink = (drop: (reason: number) => void): ListenerSink => ({
    drop,
    advertisement: (event: AdvertisementEvent, s: ServerEntry) => {
      print('advertisement', s, { change: event });
      if (!s.known) unknownHeard = true;
      if (event === 'again') logger.debug({ ...who(s), count: s.count }, 'advertisement');
      else if (s.known || event === 'changed') logger.info({ ...who(s), event }, 'RAS server');
      else warnUnknown({ ...who(s), event, deviations: s.deviations });
    },
    stale: (s: ServerEntry) => {
      print('stale', s);
      logger.info({ ...who(s), count: s.count }, 'RAS server stale');
    },
    evicted: (s: ServerEntry) => {
      const suppressed = repeated.allow('evicted', clock.now());
      if (suppressed !== undefined) logger.warn({ ...who(s), reason: 'table full, least recently heard', maxServers: c.maxServers, tableBytes: servers.bytes(), suppressed }, 'server forgotten');
    },
  });
  const driver = host.drive<ListenerSink>(servers, sink, [{ from: port, datagram: (d, o, l, a, p, now, s) => servers.datagram(d, o, l, a, p, now, s) }]);
  // The driver counts the drops; every datagram is accepted or dropped, so the received count is their sum.
  const counts = (): ListenerCounts => {
    const { accepted, ...listed } = servers.stats();
    let received = accepted;
    for (const n of driver.dropCounts) received += n;
    return { received, accepted, dropped: driver.drops(), ...listed };
  };

  if (!c.json) write(NETSH_HEADER);
  logger.info(
    { group: RASADV_GROUP, port: RASADV_PORT, interfaces: ifaces.map((i) => ({ iface: i.name, address: i.address })), allowEntries: allow ? allowListSize(allow) : null, staleAfterSec: staleAfterMs(c) / 1000, resolve: c.resolve, onceTimeoutSec: c.once ? c.timeout : null },
    'listening',
  );
  // The runtime's "fatal" is its one way for an agent to end itself: a graceful stop, then this exit code.
  const onceDone = (): void => (unknownHeard ? host.fatal('--once: an unknown RAS server was heard', EXIT_UNKNOWN_SERVER) : host.fatal('--once: timeout reached', 0));
  const onceTimer = c.once && c.timeout !== undefined ? timers.setTimer(onceDone, c.timeout * 1000) : undefined;

  return {
    reload: (next: ListenConfig) => {
      allow = loadAllowList(next.allow);
      for (const s of servers.setAllowList(allow)) {
        const who = { sender: formatIpv4(s.sender), hostname: s.hostname, domain: s.domain ?? null, known: s.known, event: 'reload' };
        if (s.known) logger.info(who, 'RAS server now allowed');
        else {
          unknownHeard = true;
          warnUnknown(who);
        }
      }
      logger.info({ allowEntries: allow ? allowListSize(allow) : null }, 'allow list reloaded');
    },
    stop: () => {
      if (onceTimer !== undefined) timers.clearTimer(onceTimer);
      driver.stop();
      names?.stop(); // prints the blocks still waiting for a name
      const stats = counts();
      logger.info({ ...stats, unknownHeard }, 'listener summary');
      if (c.json && c.once) write(jsonLine('summary', { ...summaryFields(stats, servers.servers(), wall, dnsName), unknownHeard }, new Date()));
    },
    status: (): ListenStatus => {
      const { dropped: _, ...summary } = summaryFields(counts(), servers.servers(), wall, dnsName);
      return { mode: 'listen', ...summary, unknownHeard, reverseDns: names?.stats() ?? null };
    },
  };
}

export const rasadvListen: AgentDefinition<ListenConfig, ListenStatus> = {
  name: 'rasadv listen',
  description: `List RAS servers advertising on 239.255.2.2:9753 like 'netsh ras show activeservers'. With --once --timeout S: exit ${EXIT_UNKNOWN_SERVER} if a server not on --allow was heard, else 0.`,
  config: listenSpec,
  setup: (host) => setupListener(host),
  formatStatus: formatListenStatus,
  metrics: rasadvListenMetrics,
  // A --once check (cron, monitoring) must be able to run next to a listening daemon, which holds the default
  // control socket name: unless --instance names one, it gets its own, whether once was set by a flag or in the file.
  defaultInstance: (c) => (c.once ? `once-${process.pid}` : undefined),
};
