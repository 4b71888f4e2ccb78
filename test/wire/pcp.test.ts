// PCP (RFC 6887) MAP request and response against golden bytes written out from the RFC's figures: Figure 2
// (common request header), Figure 3 (common response header), Figure 9 (MAP opcode request), Figure 10 (MAP
// opcode response); result codes of §7.4; a NAT-PMP server's UNSUPP_VERSION answer (RFC 6886 §3.5, RFC 6887 §9);
// the ANNOUNCE response (§14.1: Figure 3 alone, opcode 0), unsolicited after a restart (§14.1.3).

import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/wire/bytes.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { PCP_ANNOUNCE_GROUP, PCP_CLIENT_PORT, decodePcpResponse, encodePcpMapRequest, pcpResultName } from '../../src/wire/pcp.js';

const NONCE = fromHex('0102030405060708090a0b0c');

// Figure 2 + Figure 9: version 2, R=0 opcode 1 (MAP), reserved; requested lifetime 3600; client ::ffff:192.168.21.2;
// nonce; protocol 17 (UDP), reserved; internal port 40000, suggested external port 40000; suggested ::ffff:0.0.0.0.
const MAP_REQUEST = [
  '02 01 0000',
  '00000e10',
  '00000000 00000000 0000ffff c0a81502',
  '01020304 05060708 090a0b0c',
  '11 000000',
  '9c40 9c40',
  '00000000 00000000 0000ffff 00000000',
].join(' ');

// Figure 3 + Figure 10: version 2, R=1 opcode 1, reserved, result 0 (SUCCESS); lifetime 1800; epoch 42; 96 bits
// reserved; nonce; UDP; internal port 40000, assigned external port 40001; assigned ::ffff:198.18.0.121.
const MAP_RESPONSE = [
  '02 81 00 00',
  '00000708',
  '0000002a',
  '00000000 00000000 00000000',
  '01020304 05060708 090a0b0c',
  '11 000000',
  '9c40 9c41',
  '00000000 00000000 0000ffff c6120079',
].join(' ');

describe('PCP MAP request (RFC 6887 §7.1, §11.1)', () => {
  it('encodes Figure 2 + Figure 9 byte for byte', () => {
    const b = encodePcpMapRequest({ nonce: NONCE, protocol: 17, internalPort: 40000, suggestedExternalPort: 40000, suggestedExternalAddress: 0, clientAddress: parseIpv4('192.168.21.2'), lifetimeSec: 3600 });
    expect(b).toEqual(fromHex(MAP_REQUEST));
    expect(b.length).toBe(60);
  });

  it('a renewal suggests the granted address; a deletion carries lifetime 0 (§15)', () => {
    const b = encodePcpMapRequest({ nonce: NONCE, protocol: 17, internalPort: 40000, suggestedExternalPort: 40001, suggestedExternalAddress: parseIpv4('198.18.0.121'), clientAddress: parseIpv4('192.168.21.2'), lifetimeSec: 0 });
    expect(b.subarray(4, 8)).toEqual(fromHex('00000000'));
    expect(b.subarray(40, 60)).toEqual(fromHex('9c40 9c41 00000000 00000000 0000ffff c6120079'));
  });

  it('refuses a nonce that is not 12 bytes', () => {
    expect(() => encodePcpMapRequest({ nonce: NONCE.subarray(1), protocol: 17, internalPort: 1, suggestedExternalPort: 1, suggestedExternalAddress: 0, clientAddress: 0, lifetimeSec: 1 })).toThrow(expect.objectContaining({ code: 'WIRE_BAD_LENGTH' }));
  });
});

describe('PCP response (RFC 6887 §7.2, §11.1)', () => {
  it('decodes Figure 3 + Figure 10', () => {
    const r = decodePcpResponse(fromHex(MAP_RESPONSE));
    expect(r).toEqual({
      kind: 'pcp',
      version: 2,
      opcode: 1,
      resultCode: 0,
      lifetimeSec: 1800,
      epochSec: 42,
      map: { nonce: NONCE, protocol: 17, internalPort: 40000, externalPort: 40001, externalAddress: parseIpv4('198.18.0.121') },
    });
  });

  it('an error of header length only (e.g. UNSUPP_VERSION from a PCP server of version 1) has no MAP fields', () => {
    const r = decodePcpResponse(fromHex('01 81 00 01 00000000 0000002a 00000000 00000000 00000000'));
    expect(r).toMatchObject({ kind: 'pcp', version: 1, resultCode: 1, map: undefined });
  });

  it('an external address that is not IPv4-mapped is reported as undefined', () => {
    const b = fromHex(MAP_RESPONSE);
    b[54] = 0; // ::ffff: becomes ::00ff:
    const r = decodePcpResponse(b);
    expect(r.kind === 'pcp' && r.map?.externalAddress).toBeUndefined();
  });

  it("a NAT-PMP server's answer (version 0, opcode 128 + 1, result 1 Unsupported Version) is kind nat-pmp", () => {
    expect(decodePcpResponse(fromHex('00 81 0001 0000002a'))).toEqual({ kind: 'nat-pmp', resultCode: 1 });
  });

  it('refuses short, oversized, unaligned and request messages (§7)', () => {
    const code = (hex: string | Uint8Array): unknown => {
      try {
        decodePcpResponse(typeof hex === 'string' ? fromHex(hex) : hex);
        return 'decoded';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    expect(code(fromHex(MAP_RESPONSE).subarray(0, 23))).toBe('WIRE_TRUNCATED');
    expect(code(new Uint8Array([...fromHex(MAP_RESPONSE), 0, 0]))).toBe('WIRE_BAD_LENGTH');
    const big = new Uint8Array(1104);
    big.set(fromHex(MAP_RESPONSE));
    expect(code(big)).toBe('WIRE_BAD_LENGTH');
    expect(code(MAP_REQUEST)).toBe('WIRE_UNEXPECTED_TYPE');
    expect(code('00 81')).toBe('WIRE_TRUNCATED');
  });

  it('decodes an ANNOUNCE response (Figure 3, opcode 0, no opcode fields): the Epoch Time is what it carries', () => {
    // Version 2, R=1 opcode 0, reserved, result 0 (SUCCESS); lifetime 0; epoch 42; 96 bits reserved.
    expect(decodePcpResponse(fromHex('02 80 00 00 00000000 0000002a 00000000 00000000 00000000'))).toEqual({ kind: 'pcp', version: 2, opcode: 0, resultCode: 0, lifetimeSec: 0, epochSec: 42, map: undefined });
    // miniupnpd 2.3.1's at its start, as captured in the lab (192.168.21.1:5351 -> 224.0.0.1:5350): epoch 0.
    expect(decodePcpResponse(fromHex('02 80 00 00 00000000 00000000 00000000 00000000 00000000'))).toMatchObject({ opcode: 0, epochSec: 0 });
    // §14.1.3 / §19.1: sent to the all-hosts group at the client port.
    expect([PCP_ANNOUNCE_GROUP, PCP_CLIENT_PORT]).toEqual(['224.0.0.1', 5350]);
  });

  it('names the §7.4 result codes', () => {
    expect([0, 1, 2, 3, 8, 11, 12, 13].map(pcpResultName)).toEqual(['SUCCESS', 'UNSUPP_VERSION', 'NOT_AUTHORIZED', 'MALFORMED_REQUEST', 'NO_RESOURCES', 'CANNOT_PROVIDE_EXTERNAL', 'ADDRESS_MISMATCH', 'EXCESSIVE_REMOTE_PEERS']);
    expect(pcpResultName(99)).toBe('result 99');
  });
});
