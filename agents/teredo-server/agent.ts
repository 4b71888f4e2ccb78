// teredo-server declared for the agent host (src/runtime/host.ts): the sans-I/O TeredoServer engine
// (src/engine/teredo/server/server.ts) fed by two UDP sockets on port 3544 (primary and secondary address) and, with
// --forward-interface, a TUN device toward the native IPv6 network (native-forwarding.ts says which way out).
//
//   primary:3544 batch ──┐                              ┌─► sink.sendUdp: RAs, forwards (by socket index)
//   secondary:3544 batch ┼─► engine.datagram / tun ─────┼─► sink.writeNative: TUN write, or the raw IPv6 socket
//   TUN read batch ──────┘   (clock once per batch)     └─► sink.drop: counted by the driver per reason
//
// The global-unicast rule for the addresses is a config check (config.ts), so --check-config catches it too.
// SIGHUP: MTU, ICMPv6 size limit and allowNonGlobal change in place (config.ts `live`); the rest needs a restart.

import { SERVER_SOCKET, type ServerSink } from '../../src/engine/teredo/server/server-types.js';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import { hasNativeIpv6Route } from '../../src/io/linux-host.js';
import type { AgentDefinition } from '../../src/runtime/cli.js';
import { portText, type EngineInput, type Host } from '../../src/runtime/host.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { teredoPrefix } from '../../src/wire/teredo-address.js';
import { TEREDO_LINK_MTU, TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { engineParams, serverSpec, type ServerAgentConfig } from './config.js';
import { miredoServerImport } from './miredo-conf.js';
import { nativeForwardingMode, RAW_SOCKET_HINT, startNativeForwarding } from './native-forwarding.js';
import { AGENT_NAME, formatTeredoServerStatus, type TeredoServerStatus } from './status.js';
import { teredoServerMetrics } from './metrics.js';

async function setup(host: Host<ServerAgentConfig>) {
  const c = host.config;
  const params = engineParams(c);
  const engine = new TeredoServer(params);
  const options = { port: TEREDO_PORT, implementation: c.udpSockets, receiveBufferSize: c.udpReceiveBuffer };
  const primary = await host.udp('primary', { ...options, address: params.primary });
  const secondary = await host.udp('secondary', { ...options, address: params.secondary });
  const mode = nativeForwardingMode(c);
  // Native replies to our clients come back through the device: route their prefix into it.
  const tun = c.forwardInterface === undefined ? undefined : host.tun('tun', { name: c.forwardInterface, mtu: TEREDO_LINK_MTU }, [{ prefix: teredoPrefix(params.primary), length: 64 }]);
  const route = (): boolean | undefined => {
    const routes = host.facts.ipv6Routes();
    return routes === undefined ? undefined : hasNativeIpv6Route(routes);
  };
  const native = startNativeForwarding(mode, mode === 'raw' ? host.raw6('raw6', RAW_SOCKET_HINT) : undefined, host.logger, route);

  const byIndex = [primary, secondary];
  const inputs: EngineInput<ServerSink>[] = [
    { from: primary, datagram: (d, o, l, a, p, now, s) => engine.datagram(SERVER_SOCKET.primary, d, o, l, a, p, now, s) },
    { from: secondary, datagram: (d, o, l, a, p, now, s) => engine.datagram(SERVER_SOCKET.secondary, d, o, l, a, p, now, s) },
  ];
  if (tun) inputs.push({ from: tun, packet: (d, o, l, now, s) => engine.tun(d, o, l, now, s) });
  host.drive<ServerSink>(
    engine,
    (drop) => ({
      drop,
      sendUdp: (socket, data, offset, length, addr, port) => byIndex[socket]!.send(data, offset, length, addr, port),
      writeNative: (data, offset, length) => {
        if (tun) tun.write(data, offset, length);
        else native.sender?.send(data, offset, length);
      },
    }),
    inputs,
  );

  if (tun && host.facts.ipv6Forwarding() === false) {
    host.logger.warn({ forwardInterface: tun.name, sysctl: 'net.ipv6.conf.all.forwarding=0', effect: 'the kernel drops packets for the native network' }, 'ipv6 forwarding off');
  }
  const prefix = `${formatIpv6(teredoPrefix(params.primary))}/64`;
  const describe = () => ({
    addresses: { primary: portText(primary), secondary: portText(secondary) },
    prefix,
    mtu: host.config.mtu,
    forwardInterface: tun?.name ?? null,
    ...native.status(),
    forwardIcmpv6MaxPayload: host.config.forwardIcmpv6MaxPayload,
    allowNonGlobal: host.config.allowNonGlobal,
  });
  const { addresses, ...rest } = describe();
  host.logger.info({ ...addresses, ...rest, udpSockets: c.udpSockets }, 'serving');

  return {
    status: (): TeredoServerStatus => ({ ...describe(), ...engine.counters.snapshot() }),
    reload: (next: ServerAgentConfig) => engine.reconfigure(engineParams(next)),
  };
}

export const teredoServer: AgentDefinition<ServerAgentConfig, TeredoServerStatus> = {
  name: AGENT_NAME,
  description:
    'Teredo server (RFC 4380 §5.3): answers Router Solicitations on UDP 3544 of a primary and a secondary IPv4 address, ' +
    'and forwards bubbles and small ICMPv6 packets for Teredo clients. `teredo-server status [--json]` shows its counters.',
  config: serverSpec,
  imports: [miredoServerImport],
  setup,
  formatStatus: formatTeredoServerStatus,
  metrics: teredoServerMetrics,
};
