// The IPv4 default gateway NAT-PMP and PCP ask (defaultGateway4, src/io/local-address.ts), read from a
// /proc/net/route table (gateway in the kernel's little-endian hex, RTF_GATEWAY = 0x2).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultGateway4 } from '../../src/io/local-address.js';

const dir = mkdtempSync(join(tmpdir(), 'pm-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
function table(rows: string[]): string {
  const f = join(dir, `route-${rows.length}-${Math.random()}`);
  writeFileSync(f, [HEAD, ...rows, ''].join('\n'));
  return f;
}

describe('defaultGateway4', () => {
  it('reads the default route (destination 0, RTF_GATEWAY) and turns the little-endian hex into dotted IPv4', async () => {
    const f = table([
      'lan\t0015A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', // 192.168.21.0/24, on-link
      'lan\t00000000\t0115A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0', // default via 192.168.21.1
    ]);
    expect(await defaultGateway4(f)).toBe('192.168.21.1');
  });

  it('no default route, or one without a gateway (a point-to-point link): none', async () => {
    expect(await defaultGateway4(table(['lan\t0015A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0']))).toBeUndefined();
    expect(await defaultGateway4(table(['tun0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0']))).toBeUndefined();
  });
});
