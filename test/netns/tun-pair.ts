// Two TUN devices in two namespaces of a test's own, joined by the test process, which copies every packet from
// one to the other (a point-to-point link with no link-layer addresses) and decodes the Router Advertisements
// that pass, so a test sees exactly what went on the link.
//
//   NS_A: A_DEV (fe80::1)  ⇄ [ the test: relay ] ⇄  NS_B: B_DEV (fe80::2), a plain Linux host (accept_ra, SLAAC)

import { execFileSync } from 'node:child_process';
import type { TunDevice } from '../../src/io/ports.js';
import { openTun } from '../../src/io/tun-linux.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeIpv6, encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc, type RouterAdvert } from '../../src/wire/ndisc.js';
import { addNetns, deleteNetns } from './io-netns.js';

export interface SeenRa {
  readonly src: string;
  readonly dst: string;
  readonly hopLimit: number;
  readonly ra: RouterAdvert;
}

export interface TunPair {
  /** The router side (its kernel is NS_A's). */
  readonly a: TunDevice;
  /** The host side. */
  readonly b: TunDevice;
  /** Every RA that crossed the link, in order. */
  readonly ras: SeenRa[];
  close(): void;
}

function relay(from: TunDevice, to: TunDevice, ras: SeenRa[]): void {
  from.onBatch((batch) => {
    for (let n = 0; n < batch.count; n++) {
      const packet = batch.data.subarray(batch.offset(n), batch.offset(n) + batch.length(n));
      // Lent: the decoded RA keeps views into the bytes, so decode a copy.
      const { header, payload } = decodeIpv6(packet.slice());
      if (header.nextHeader === NEXT_HEADER.ICMPV6 && payload[0] === 134) {
        const ra = decodeNdisc(decodeIcmpv6(payload));
        if (ra.kind === 'router-advert') ras.push({ src: formatIpv6(header.src), dst: formatIpv6(header.dst), hopLimit: header.hopLimit, ra });
      }
      to.write(packet);
    }
  });
}

/** Namespaces `nsA` / `nsB` with TUN devices `devA` (fe80::1, forwarding on) / `devB` (fe80::2, accept_ra), relayed. */
export function tunPair(nsA: string, devA: string, nsB: string, devB: string): TunPair {
  addNetns(nsA);
  addNetns(nsB);
  execFileSync('ip', ['netns', 'exec', nsA, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  execFileSync('ip', ['netns', 'exec', nsB, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_ra=1', 'net.ipv6.conf.default.autoconf=1']);
  const a = openTun({ name: devA, netns: nsA, mtu: 1400 });
  const b = openTun({ name: devB, netns: nsB, mtu: 1400 });
  const ras: SeenRa[] = [];
  relay(a, b, ras);
  relay(b, a, ras);
  a.addAddress(parseIpv6('fe80::1'), 64);
  b.addAddress(parseIpv6('fe80::2'), 64);
  a.setUp(true);
  b.setUp(true);
  return {
    a,
    b,
    ras,
    close: () => {
      a.close();
      b.close();
      deleteNetns(nsA);
      deleteNetns(nsB);
    },
  };
}

/** A whole IPv6 packet: a Router Solicitation from `src` to ff02::2, hop limit 255, correct checksum. */
export function routerSolicitation(src: Uint8Array): Uint8Array {
  const dst = parseIpv6('ff02::2');
  const msg = new Uint8Array(8);
  msg[0] = 133;
  const sum = ipv6UpperChecksum(src, dst, NEXT_HEADER.ICMPV6, msg);
  msg[2] = sum >> 8;
  msg[3] = sum & 0xff;
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.ICMPV6, hopLimit: 255, src, dst }, msg);
}
