// The zoo's `upnp` NATs (ZOO_SITES nat-upnp, port-restricted, and nat-upnps, symmetric): routers running Debian's
// miniupnpd (miniupnpd-nftables 2.3.1) with UPnP IGD, NAT-PMP and PCP on their LAN, so a client may map a port.
//
// The obstacle: miniupnpd 2.3.1 needs a public external address. It refuses `ext_ip=` in a reserved range
// ("ext_ip contains reserved / private address") and, without ext_ip, disables port forwarding when the
// outside interface holds one; the lab's inet4 is 198.18.0.0/15 (RFC 2544 benchmarking, reserved). Its third
// way is STUN (`ext_perform_stun=yes`): it learns the external address from a STUN server and maps ports when
// all four of its RFC 5780 probes (plain, change-IP, change-port, both) come back unchanged, i.e. when nothing
// filters in front of it. Here the STUN server is Debian's stund (stun-server 0.97) on the Teredo server node,
// which holds the two addresses a STUN server needs (.10 and .11); it answers only inside the lab. The NAT's
// input chain lets the four answers in (they come from another address or port than asked, which the NAT's
// "drop new UDP to the router" rule would drop otherwise).
//
// miniupnpd puts its DNAT rules into chains of a table of its own (inet UPNP_TABLE) that this file creates,
// as Debian's nft_init.sh would; the NAT's own table (nat.ts) is left as it is.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, type NatSite } from './topology.js';

/** The table whose chains miniupnpd fills (upnp_table_name / upnp_nat_table_name). */
export const UPNP_TABLE = 'tl_upnp';
/** STUN's default port (RFC 5389 §18.4) and stund's second port (its -o default). */
export const STUN_PORT = 3478;
export const STUN_ALT_PORT = 3479;
/** NAT-PMP / PCP server port on the router (RFC 6886 §3, RFC 6887 §19). */
export const NATPMP_PORT = 5351;
/** miniupnpd's HTTP port for the IGD's description and SOAP control (fixed, so tests can name it). */
export const UPNP_HTTP_PORT = 5000;

/** Input rule (goes before the NAT's drop of new UDP to the router): the STUN server's answers to miniupnpd. */
export function stunAnswersRule(outsideIf: string): string {
  return `iifname "${outsideIf}" ip saddr { ${ADDR.server}, ${ADDR.server2} } udp sport { ${STUN_PORT}, ${STUN_ALT_PORT} } accept`;
}

/** The chains miniupnpd fills (forward filter, prerouting DNAT, postrouting SNAT), the ones its service flushes. */
export const UPNP_CHAINS: readonly string[] = ['miniupnpd', 'prerouting_miniupnpd', 'postrouting_miniupnpd'];

/** The nftables table with the chains miniupnpd adds its rules to (what Debian's nft_init.sh would create). */
export function upnpTables(): string {
  return [
    `table inet ${UPNP_TABLE} {`,
    '  chain forward { type filter hook forward priority filter; policy accept; jump miniupnpd; }',
    '  chain miniupnpd { }',
    '  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }',
    '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }',
    '  chain prerouting_miniupnpd { }',
    '  chain postrouting_miniupnpd { }',
    '}',
    '',
  ].join('\n');
}

/** miniupnpd.conf for `site`: UPnP IGD + NAT-PMP/PCP on the LAN, external address by STUN, LAN ports >= 1024 only. */
export function miniupnpdConf(site: NatSite, outsideIf: string, insideIf: string): string {
  const lan = site.inside.replace(/\.\d+$/, '.0/24');
  return [
    `ext_ifname=${outsideIf}`,
    `listening_ip=${insideIf}`,
    `http_port=${UPNP_HTTP_PORT}`,
    'enable_upnp=yes',
    // NAT-PMP and PCP together (miniupnpd has one switch for both).
    'enable_natpmp=yes',
    'ext_perform_stun=yes',
    `ext_stun_host=${ADDR.server}`,
    `ext_stun_port=${STUN_PORT}`,
    'secure_mode=yes',
    'system_uptime=no',
    `upnp_table_name=${UPNP_TABLE}`,
    `upnp_nat_table_name=${UPNP_TABLE}`,
    'upnp_forward_chain=miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd',
    'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    // A fixed UUID: the lab is reproducible; the IGD only needs one per network.
    'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
    `allow 1024-65535 ${lan} 1024-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}

/** The STUN server's argv (on the server node, both of its addresses). */
export const STUND_ARGV: readonly string[] = ['stund', '-v', '-h', ADDR.server, '-a', ADDR.server2, '-p', String(STUN_PORT), '-o', String(STUN_ALT_PORT)];

/** Writes `site`'s miniupnpd.conf into `dir` and returns miniupnpd's argv. */
export function miniupnpdArgv(site: NatSite, outsideIf: string, insideIf: string, dir: string): string[] {
  const conf = join(dir, `miniupnpd-${site.nat}.conf`);
  writeFileSync(conf, miniupnpdConf(site, outsideIf, insideIf));
  // -d: foreground, log to stderr (the lab's log file); a pid file of its own under the lab's directory.
  return ['miniupnpd', '-d', '-f', conf, '-P', join(dir, `miniupnpd-${site.nat}.pid`)];
}
