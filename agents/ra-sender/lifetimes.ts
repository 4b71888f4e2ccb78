// Lifetimes that real hosts ignore. Linux has `net.ipv6.conf.*.accept_ra_min_lft` (default 0 = off): an RA
// section (router lifetime, prefix, route) whose non-zero lifetime is below it is ignored. Android 14 and later
// set it to 180 s, and drop RDNSS/DNSSL entries with shorter lifetimes the same way; so do hosts whose operators
// copy that setting. A short lifetime is legal (RFC 4861 §6.2.1 only bounds the router lifetime by
// MaxRtrAdvInterval) but then those hosts get no default route, address or DNS server from this router: warn,
// and say what to set. (Zero stays zero: it means "withdraw" and is never ignored.)

import type { RaInterfaceSettings } from './settings.js';

/** Android's accept_ra_min_lft (seconds): the shortest non-zero lifetime common hosts accept. */
export const HOST_MIN_LIFETIME_SEC = 180;

/** One warning per section whose non-zero lifetime is below HOST_MIN_LIFETIME_SEC (not prefixed by the interface). */
export function hostLifetimeWarnings(s: RaInterfaceSettings): string[] {
  const out: string[] = [];
  const min = HOST_MIN_LIFETIME_SEC;
  const short = (v: number): boolean => v !== 0 && v < min;
  const why = `Android (accept_ra_min_lft = ${min}) and Linux hosts with net.ipv6.conf.*.accept_ra_min_lft set ignore it`;
  if (short(s.routerLifetimeSec)) {
    const hint = s.maxIntervalSec * 3 >= min ? '' : ` (its default is 3 x max interval: a max interval of at least ${min / 3} s gives ${min} s)`;
    out.push(`router lifetime ${s.routerLifetimeSec} s is below ${min} s: ${why}, so they get no default route; set the router lifetime (AdvDefaultLifetime, --router-lifetime) to at least ${min} s${hint}`);
  }
  for (const p of s.prefixes) if (short(p.validLifetimeSec)) out.push(`prefix ${p.prefix}: valid lifetime ${p.validLifetimeSec} s is below ${min} s: ${why} and form no address from it; set AdvValidLifetime / --valid-lifetime to at least ${min} s`);
  for (const r of s.routes) if (short(r.lifetimeSec)) out.push(`route ${r.prefix}: lifetime ${r.lifetimeSec} s is below ${min} s: ${why}; set AdvRouteLifetime / --route-lifetime to at least ${min} s`);
  for (const d of s.rdnss) if (short(d.lifetimeSec)) out.push(`rdnss ${d.servers.join(' ')}: lifetime ${d.lifetimeSec} s is below ${min} s: ${why} and use no DNS server from it; set AdvRDNSSLifetime / --rdnss-lifetime to at least ${min} s`);
  for (const d of s.dnssl) if (short(d.lifetimeSec)) out.push(`dnssl ${d.domains.join(' ')}: lifetime ${d.lifetimeSec} s is below ${min} s: ${why}; set AdvDNSSLLifetime / --dnssl-lifetime to at least ${min} s`);
  for (const p of s.more?.pref64 ?? []) if (short(p.lifetimeSec)) out.push(`pref64 ${p.prefix}: lifetime ${p.lifetimeSec} s is below ${min} s: hosts that apply accept_ra_min_lft ignore it; set it to at least ${min} s`);
  return out;
}
