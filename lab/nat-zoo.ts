// The NAT zoo's behaviours (ZOO_SITES in topology.ts) as nftables rules added to a NAT's ruleset (nat.ts), and
// the actions that change a running zoo NAT (reboot, block UDP, open UDP, restart miniupnpd):
//
//   port-forward     a port-restricted NAT with UDP forwardPort → the first client (what people set up for
//                    Teredo and consoles): unsolicited UDP to that port gets in from anyone.
//   hairpin          packets from the LAN to the NAT's own outside address and a mapped port go to the host
//                    behind that mapping, with the sender's mapping as source (RFC 4787 §6). A map filled by
//                    every outgoing packet (mapped port → inside endpoint) finds the host.
//   no-hairpin       such packets are dropped silently (no ICMP), as on NATs without hairpinning.
//   cgnat            nothing here: the home NAT's outside is 100.64.0.2 on `wan`, the carrier NAT in front
//                    (its own namespace) masquerades again to inet4.
//   sequential       symmetric: every new flow gets the next port of a window (SEQ_BASE + n mod SEQ_WINDOW).
//   port-preserving  symmetric: an inside endpoint's first flow keeps its port (masquerade), its later flows
//                    to other destinations take sequential ports.
//   timeout-30s      conntrack UDP timeouts of 30 s in the NAT's namespace (sysctls, per namespace).
//   reboot           endpoint-independent mapping kept in an `eim` map (inside endpoint → sequential port);
//                    `reboot` flushes conntrack and the map, so every mapping comes back on a new port.
//   udp-block        a `blocked` set of protocols dropped in forwarding; `block-udp` / `open-udp` fill it.
//   upnp             miniupnpd's chains (lab/upnp-nat.ts, which starts it) on a port-restricted (nat-upnp) or
//                    symmetric (nat-upnps) NAT: here the STUN server's answers to miniupnpd get past the drop of
//                    new UDP to the router, and the router's own packets are not translated. `restart-upnp`
//                    restarts miniupnpd as Debian's service does (its ExecStopPost nft_removeall.sh and
//                    ExecStartPre nft_init.sh leave its chains empty), so every port mapping is lost.
//   lossy            nothing here: lab/delay-line.ts routes every packet through a delay line (a TUN device
//                    and a process, for want of tc netem) that drops LOSS_PERCENT at random and holds the
//                    rest DELAY_MS, each direction.
//
// nftables hands numgen's host-order integer to SNAT as network-order port bytes, so the sequential ports go
// through an anonymous map from the counter to the port (typed inet_service, stored in network order).

import type { NatRules, NatRulesetParams } from './nat.js';
import { NAT_TABLE } from './nat.js';
import type { Lab } from './lab.js';
import { LabError } from './errors.js';
import type { NatSite } from './topology.js';
import { UPNP_CHAINS, UPNP_TABLE, stunAnswersRule } from './upnp-nat.js';

/** Sequential allocation: ports SEQ_BASE .. SEQ_BASE + SEQ_WINDOW - 1, then around again. */
export const SEQ_BASE = 20000;
export const SEQ_WINDOW = 64;
/** Mapping lifetime of the timeout-30s NAT, seconds (Linux's default for a flow that saw one reply). */
export const SHORT_UDP_TIMEOUT_S = 30;
/** Share of packets the lossy NAT's delay line (delay-line.ts) drops, per direction, percent. */
export const LOSS_PERCENT = 5;
const MAP_TIMEOUT_S = 180;

/** Adds a zoo NAT's rules to r (see the table above). */
export function zooRules(p: NatRulesetParams, r: NatRules): void {
  const out = `oifname "${p.outsideIf}"`;
  const seq = `snat ip to ${p.outsideAddr} : numgen inc mod ${SEQ_WINDOW} map { ${sequentialPorts()} }`;
  switch (p.zoo) {
    case 'port-forward':
      r.prerouting.push(`iifname "${p.outsideIf}" udp dport ${p.forwardPort} dnat ip to ${p.clientAddr}`);
      break;
    case 'hairpin':
      r.sets.push(`map hairpin { type inet_service : ipv4_addr . inet_service; flags dynamic,timeout; timeout ${MAP_TIMEOUT_S}s; }`);
      r.record.push(`${out} meta l4proto udp update @hairpin { ct reply proto-dst : ct original ip saddr . ct original proto-src }`);
      r.prerouting.push(`iifname "${p.insideIf}" ip daddr ${p.outsideAddr} meta l4proto udp dnat ip to udp dport map @hairpin`);
      // The hairpinned packet leaves by the LAN again, from the sender's public address (its port is kept).
      r.postrouting.push(`iifname "${p.insideIf}" oifname "${p.insideIf}" ct status dnat snat ip to ${p.outsideAddr}`);
      break;
    case 'no-hairpin':
      r.input.push(`iifname "${p.insideIf}" ip daddr ${p.outsideAddr} meta l4proto udp drop`);
      break;
    case 'sequential':
      r.postrouting.push(`${out} meta l4proto udp ${seq}`);
      break;
    case 'port-preserving':
      r.sets.push(`set used { type ipv4_addr . inet_service; flags dynamic,timeout; timeout ${MAP_TIMEOUT_S}s; }`);
      r.postrouting.push(`${out} ip saddr . udp sport @used ${seq}`, `${out} meta l4proto udp update @used { ip saddr . udp sport } masquerade`);
      break;
    case 'reboot':
      r.sets.push(`map eim { type ipv4_addr . inet_service : inet_service; flags dynamic,timeout; timeout ${MAP_TIMEOUT_S}s; }`);
      r.postrouting.push(`${out} meta l4proto udp snat ip to ${p.outsideAddr} : ip saddr . udp sport map @eim`, `${out} meta l4proto udp ${seq}`);
      r.record.push(`${out} meta l4proto udp update @eim { ct original ip saddr . ct original proto-src : ct reply proto-dst }`);
      break;
    case 'udp-block':
      r.sets.push('set blocked { type inet_proto; }');
      r.forward.push('meta l4proto @blocked drop');
      break;
    case 'upnp':
      r.input.unshift(stunAnswersRule(p.outsideIf));
      // The router's own packets keep their ports (a symmetric kind's fully-random masquerade would change the
      // ports of miniupnpd's STUN probes, and miniupnpd would then refuse to map: "restrictive NAT").
      r.postrouting.push(`${out} ip saddr ${p.outsideAddr} accept`);
      break;
    case 'cgnat':
    case 'lossy':
    case 'timeout-30s':
    case undefined:
      break;
  }
}

function sequentialPorts(): string {
  return Array.from({ length: SEQ_WINDOW }, (_, i) => `${i} : ${SEQ_BASE + i}`).join(', ');
}

/** sysctls a zoo NAT's namespace needs (applied after its ruleset, which loads conntrack there). */
export function zooSysctls(site: NatSite): Record<string, string> {
  if (site.zoo !== 'timeout-30s') return {};
  const t = String(SHORT_UDP_TIMEOUT_S);
  return { 'net.netfilter.nf_conntrack_udp_timeout': t, 'net.netfilter.nf_conntrack_udp_timeout_stream': t };
}

export type NatAction = 'reboot' | 'block-udp' | 'open-udp' | 'restart-upnp';
export const NAT_ACTIONS: readonly NatAction[] = ['reboot', 'block-udp', 'open-udp', 'restart-upnp'];

/** Which zoo behaviour each action needs. */
const ACTION_NEEDS: Readonly<Record<NatAction, NatSite['zoo']>> = { reboot: 'reboot', 'block-udp': 'udp-block', 'open-udp': 'udp-block', 'restart-upnp': 'upnp' };

/**
 * Restarts a upnp NAT's miniupnpd (lab.restartDaemon): stopped by PID, its chains flushed as Debian's service
 * does between stop and start, `whileDown` run (a test looks at the empty chains there), started again; resolves
 * once it serves NAT-PMP/PCP again (it has sent its ANNOUNCE by then, RFC 6887 §14.1.3).
 */
export async function restartUpnp(lab: Lab, nat: string, whileDown: () => Promise<void> = async () => undefined): Promise<void> {
  await lab.restartDaemon(`miniupnpd-${nat}`, async () => {
    for (const chain of UPNP_CHAINS) await lab.execOk(nat, ['nft', 'flush', 'chain', 'inet', UPNP_TABLE, chain]);
    await whileDown();
  });
}

/**
 * Changes a running zoo NAT: `reboot` forgets every mapping (conntrack and the eim map; the sequential counter
 * goes on, so mappings return on new ports), `block-udp` drops all forwarded UDP, `open-udp` lets it pass again,
 * `restart-upnp` restarts miniupnpd with its mappings gone (restartUpnp).
 */
export async function natAction(lab: Lab, nat: string, action: NatAction): Promise<void> {
  const site = lab.node(nat).nat;
  if (!site || site.nat !== nat || site.zoo !== ACTION_NEEDS[action]) {
    throw new LabError('LAB_BAD_ARGUMENT', `${action} needs a ${ACTION_NEEDS[action]} NAT (zoo); ${nat} is not one`);
  }
  if (action === 'restart-upnp') return restartUpnp(lab, nat);
  if (action === 'reboot') {
    await lab.execOk(nat, ['nft', 'flush', 'map', 'ip', NAT_TABLE, 'eim']);
    // conntrack -F exits 0 with "0 flow entries" too.
    await lab.execOk(nat, ['conntrack', '-F']);
    return;
  }
  const verb = action === 'block-udp' ? 'add' : 'delete';
  const r = await lab.exec(nat, ['nft', verb, 'element', 'ip', NAT_TABLE, 'blocked', '{ udp }']);
  // Blocking twice or opening an open NAT is not an error.
  if (r.code !== 0 && !/File exists|No such file/.test(r.stderr)) throw new LabError('LAB_COMMAND_FAILED', `nft ${verb} element: ${r.stderr.trim()}`);
  // Flows that were open keep no state across the block: a real firewall forgets them too.
  if (action === 'block-udp') await lab.execOk(nat, ['conntrack', '-D', '-p', 'udp']).catch(() => undefined);
}
