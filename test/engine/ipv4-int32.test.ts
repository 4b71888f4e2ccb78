// IPv4 addresses of 128.0.0.0 and more on the data path: int32 (src/wire/ipv4.ts), so negative numbers. Each
// place that compares, masks or classifies an address is checked with such addresses (198.18.0.0/15 of the
// lab, 203.0.113.0/24 of the documentation), and engine parameters given in the uint32 form are normalized,
// so that they still equal what the ports hand over.

import { describe, expect, it } from 'vitest';
import { isAllowed, parseAllowList } from '../../src/engine/rasadv/allow.js';
import { PeerTable } from '../../src/engine/teredo/peers/peer-table.js';
import { PEER_PENDING } from '../../src/engine/teredo/peers/peer-classes.js';
import { seededRandom } from '../../src/engine/types.js';
import { ReceiveBatch } from '../../src/io/batch.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeTeredoAddress, encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { NAT_PUBLIC, PRIMARY, SECONDARY, TeredoWorld } from './teredo-client-fixtures.js';
import { rsDatagram, server, udp } from './teredo-server-fixtures.js';

const LAB_SERVER = parseIpv4('198.18.0.10');
const DOC_HOST = parseIpv4('203.0.113.7');

describe('int32 IPv4 addresses of 128.0.0.0 and more', () => {
  it('come out of a receive batch as the negative int32 the engines compare with, whatever form went in', () => {
    const b = new ReceiveBatch(2);
    b.fill(new Uint8Array(8), Int32Array.of(4, 0xcb007107 | 0, 3544, 4, 0x0a000001, 40000), 2, 3);
    expect([b.sourceAddr(0), b.sourceAddr(1)]).toEqual([DOC_HOST, parseIpv4('10.0.0.1')]);
    expect(b.sourceAddr(0)).toBe(-889163513);
    b.reset(new Uint8Array(1));
    b.push(0, 1, 0xcb007107, 1);
    expect(b.sourceAddr(0)).toBe(DOC_HOST);
  });

  it('server: the loop check matches its own addresses, given to it as uint32, against int32 sources', () => {
    const s = server({ primary: 0xc612000a, secondary: 0xc612000b });
    expect(udp(s, rsDatagram(), { addr: LAB_SERVER, port: TEREDO_PORT })).toEqual({ kind: 'drop', reason: 'server-loop-own-address' });
    expect(udp(s, rsDatagram(), { addr: LAB_SERVER + 1, port: TEREDO_PORT }, 'secondary')).toEqual({ kind: 'drop', reason: 'server-loop-own-address' });
  });

  it('server: §5.2.4 classifies negative sources (multicast, reserved: refused; 198.18 and 203.0.113: answered)', () => {
    const s = server();
    for (const a of ['224.0.0.1', '240.1.2.3', '255.255.255.255']) {
      expect(udp(s, rsDatagram(), { addr: parseIpv4(a), port: 40000 }), a).toEqual({ kind: 'drop', reason: 'server-case-3-source-not-global' });
    }
    for (const a of ['198.18.0.101', '203.0.113.7', '128.0.0.1']) expect(udp(s, rsDatagram(), { addr: parseIpv4(a), port: 40000 }), a).toMatchObject({ purpose: 'ra' });
  });

  it('server: the RA goes back to a 203.0.113.7 source, its origin indication naming that address', () => {
    const out = udp(server(), rsDatagram(), { addr: DOC_HOST, port: 51234 });
    expect(out).toMatchObject({ purpose: 'ra', to: { addr: DOC_HOST, port: 51234 } });
    expect(decodeTeredoPayload((out as { bytes: Uint8Array }).bytes).origin).toEqual({ addr: DOC_HOST, port: 51234 });
  });

  it('peer table: a mapping set as int32 is matched by either form, and read back as int32', () => {
    const t = new PeerTable({ random: seededRandom(1) });
    const peer = encodeTeredoAddress({ server: LAB_SERVER, mappedPort: 40000, mappedAddr: DOC_HOST });
    const slot = t.insert(peer, 0, 0, PEER_PENDING);
    t.setMapping(slot, DOC_HOST, 40000);
    expect(t.mappedAddr(slot)).toBe(DOC_HOST);
    expect(t.mappingIs(slot, DOC_HOST, 40000)).toBe(true);
    expect(t.mappingIs(slot, 0xcb007107, 40000)).toBe(true);
    expect(t.mappingIs(slot, parseIpv4('203.0.113.8'), 40000)).toBe(false);
  });

  it('client: a server given as uint32 qualifies the client on RAs from its int32 source; the mapping is 198.18.0.101', () => {
    const w = new TeredoWorld();
    const c = w.client('full-cone', { primary: PRIMARY >>> 0, secondary: SECONDARY >>> 0 });
    w.runUntilQualified(c);
    expect(c.engine.state).toBe('qualified');
    const a = decodeTeredoAddress(c.engine.address!);
    expect([a.server, a.mappedAddr]).toEqual([LAB_SERVER, NAT_PUBLIC]);
  });

  it('rasadv allow list: prefixes above 128.0.0.0 match by mask, and 128.0.0.0/1 splits the space', () => {
    const list = parseAllowList([{ text: '203.0.113.0/24 128.0.0.0/1', origin: 'test' }]);
    expect(isAllowed(list, parseIpv4('203.0.113.200'), '', undefined)).toBe(true);
    expect(isAllowed(list, parseIpv4('198.18.0.1'), '', undefined)).toBe(true);
    expect(isAllowed(list, parseIpv4('127.255.255.255'), '', undefined)).toBe(false);
    expect(isAllowed(parseAllowList([{ text: '203.0.113.0/24', origin: 'test' }]), parseIpv4('203.0.114.1'), '', undefined)).toBe(false);
    expect(() => parseAllowList([{ text: '203.0.113.1/24', origin: 'test' }])).toThrow('host bits set');
  });
});
