// teredo-relay declared for the agent host (src/runtime/host.ts): the sans-I/O TeredoRelay engine
// (src/engine/teredo/relay/relay.ts) fed by one UDP socket and a TUN device routing 2001::/32.
//
//   UDP batch (recvmmsg) ──► engine.datagrams ─┬─► TUN write      (client -> native)
//   TUN batch ─────────────► engine.packets ───┼─► UDP send       (native -> client, bubbles)
//   timer (peer expiry, bubble retries) ───────┴─► drops counted per reason
//
// The host opens, counts and closes the ports (the route goes before the device), runs the stats log and
// SIGHUP: the policy fields (config.ts `live`) change in place and the peer table is kept.

import { TeredoRelay } from '../../src/engine/teredo/relay/relay.js';
import type { RelaySink } from '../../src/engine/teredo/relay/relay-types.js';
import type { AgentDefinition } from '../../src/runtime/cli.js';
import { portText, type Host } from '../../src/runtime/host.js';
import { formatIpv6, isGlobalUnicast6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { isTeredo, TEREDO_PREFIX, TEREDO_PREFIX_LEN } from '../../src/wire/teredo-address.js';
import { engineParams, relaySpec, type RelayAgentConfig } from './config.js';
import { miredoRelayImport } from './miredo-conf.js';
import { AGENT_NAME, formatTeredoRelayStatus, type TeredoRelayStatus } from './status.js';
import { teredoRelayMetrics } from './metrics.js';

/** The first global unicast IPv6 address outside 2001::/32 among `addresses`, or undefined. */
export function pickIcmpv6Source(addresses: readonly string[]): Uint8Array | undefined {
  for (const text of addresses) {
    let a: Uint8Array;
    try {
      a = parseIpv6(text);
    } catch {
      continue;
    }
    if (isGlobalUnicast6(a) && !isTeredo(a)) return a;
  }
  return undefined;
}

async function setup(host: Host<RelayAgentConfig>) {
  const c = host.config;
  const hostAddresses = (): string[] => (host.facts.ipv6Addresses() ?? []).filter((a) => a.device !== 'lo').map((a) => formatIpv6(a.address));
  const icmpSource = (c: RelayAgentConfig): Uint8Array | undefined => (c.icmpv6Source !== undefined ? parseIpv6(c.icmpv6Source) : pickIcmpv6Source(hostAddresses()));
  let source = icmpSource(c);
  const engine = new TeredoRelay(engineParams(c, host.random, source));
  const udp = await host.udp('udp', { address: parseIpv4(c.bind), port: c.port, implementation: c.udpSockets, receiveBufferSize: c.udpReceiveBuffer });
  // The native side reaches every Teredo client through the relay (RFC 4380 §5.4).
  const tun = host.tun('tun', { name: c.interface, mtu: c.mtu }, [{ prefix: TEREDO_PREFIX, length: TEREDO_PREFIX_LEN }]);
  host.drive<RelaySink>(
    engine,
    (drop) => ({ drop, sendUdp: (data, offset, length, addr, port) => udp.send(data, offset, length, addr, port), writeTun: (data, offset, length) => void tun.write(data, offset, length) }),
    [
      // Whole batches: the engine checks what consecutive packets of a superframe share once (relay.ts).
      { from: udp, datagrams: (b, now, s) => engine.datagrams(b, now, s) },
      { from: tun, packets: (b, now, s) => engine.packets(b, now, s) },
    ],
  );

  if (host.facts.ipv6Forwarding() === false) {
    host.logger.warn({ interface: tun.name, sysctl: 'net.ipv6.conf.all.forwarding=0', effect: 'the kernel drops what the relay writes for the native network' }, 'ipv6 forwarding off');
  }
  if (source === undefined) host.logger.warn({ fix: 'set --icmpv6-source' }, 'no global IPv6 address for ICMPv6 errors: none will be sent');
  const describe = () => {
    const c = host.config;
    return {
      udp: portText(udp),
      interface: tun.name,
      route: `${formatIpv6(TEREDO_PREFIX)}/${TEREDO_PREFIX_LEN}`,
      mtu: c.mtu,
      icmpv6Source: source === undefined ? null : formatIpv6(source),
      honorConeBit: c.honorConeBit,
      directBubbles: c.directBubbles,
      acceptUnknownPeers: c.acceptUnknownPeers,
    };
  };
  host.logger.info({ ...describe(), maxPeers: c.maxPeers, udpSockets: c.udpSockets }, 'relaying');

  return {
    status: (): TeredoRelayStatus => ({ ...describe(), ...engine.summary(), ...engine.counters.snapshot() }),
    reload: (next: RelayAgentConfig) => {
      source = icmpSource(next);
      engine.reconfigure(engineParams(next, host.random, source));
    },
  };
}

export const teredoRelay: AgentDefinition<RelayAgentConfig, TeredoRelayStatus> = {
  name: AGENT_NAME,
  description:
    'Teredo relay (RFC 4380 §5.4): routes 2001::/32 into a TUN device and carries packets between Teredo clients over UDP and the ' +
    'native IPv6 network. `teredo-relay status [--json]` shows peers and counters.',
  config: relaySpec,
  imports: [miredoRelayImport],
  setup,
  formatStatus: formatTeredoRelayStatus,
  metrics: teredoRelayMetrics,
};
