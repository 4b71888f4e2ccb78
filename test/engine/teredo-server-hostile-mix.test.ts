// The hostile-flood benchmark's mix (bench/teredo-server/hostile-flood.c --dump) fed to the server engine: every
// datagram of it must be dropped, none answered or forwarded (the benchmark's premise, and the engine's
// §5.3.1 duty under a flood), and the mix must reach deep into the checks (many distinct drop reasons), or
// the benchmark would measure only the first test. Needs a C compiler (test/require.ts: skipped only when not root).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import { SERVER_DROP_REASONS, type ServerSink } from '../../src/engine/teredo/server/server-types.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { skipWithout } from '../require.js';

const KINDS = ['random', 'truncated', 'auth-wild', 'wrong-order', 'ipv6-liar', 'bubble-bad', 'echo-bad', 'spoofed'];
const COUNT = 20_000;

function haveCc(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Record {
  readonly kind: number;
  readonly addr: number;
  readonly port: number;
  readonly offset: number;
  readonly length: number;
}

/** Parses the --dump format: kind (u8), source IPv4 (u32), source port (u16), length (u16), bytes; big-endian. */
function parseDump(b: Uint8Array): Record[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Record[] = [];
  for (let at = 0; at < b.length; ) {
    const length = dv.getUint16(at + 7);
    out.push({ kind: b[at]!, addr: dv.getInt32(at + 1), port: dv.getUint16(at + 5), offset: at + 9, length }); // int32, as ports hand it
    at += 9 + length;
  }
  return out;
}

describe.skipIf(skipWithout('cc (Debian gcc)', haveCc()))('hostile-flood mix against the server engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsv-mix-'));
  const bin = join(dir, 'hostile-flood');
  beforeAll(() => {
    execFileSync('cc', ['-O2', '-Wall', '-o', bin, fileURLToPath(new URL('../../bench/teredo-server/hostile-flood.c', import.meta.url))], { stdio: 'inherit' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2])('drops every datagram of the mix (seed %i) and reaches many checks', (seed) => {
    const file = join(dir, `mix-${seed}.bin`);
    execFileSync(bin, ['--server', '198.18.0.10', '--count', String(COUNT), '--seed', String(seed), '--dump', file]);
    const data = new Uint8Array(readFileSync(file));
    const records = parseDump(data);
    expect(records).toHaveLength(COUNT);

    // As in the lab: 198.18.0.10/.11, native forwarding on (so non-global destinations are refused as such).
    const engine = new TeredoServer({ primary: parseIpv4('198.18.0.10'), secondary: parseIpv4('198.18.0.11'), nativeForwarding: true });
    const drops = new Map<string, number>();
    const sent: string[] = [];
    const sink: ServerSink = {
      drop: (r) => void drops.set(SERVER_DROP_REASONS[r]!, (drops.get(SERVER_DROP_REASONS[r]!) ?? 0) + 1),
      sendUdp: (_socket, _d, _o, length, addr, port) => void sent.push(`udp ${addr}:${port} ${length}`),
      writeNative: (_d, _o, length) => void sent.push(`native ${length}`),
    };
    const perKind = new Array<number>(KINDS.length).fill(0);
    for (const r of records) {
      const before = sent.length;
      engine.datagram(0, data, r.offset, r.length, r.addr, r.port, 0, sink);
      if (sent.length !== before) throw new Error(`a ${KINDS[r.kind]} datagram was answered or forwarded: ${sent.at(-1)}`);
      perKind[r.kind]!++;
    }
    expect(sent).toEqual([]);
    expect([...drops.values()].reduce((a, b) => a + b, 0)).toBe(COUNT);
    expect(perKind.every((n) => n > 0)).toBe(true);
    // Each kind targets a different check; the seeded mix reaches at least these.
    for (const reason of [
      'server-case-1-not-teredo-ipv6',
      'server-loop-own-address',
      'server-case-7-spoofed-teredo-source',
      'server-case-7-destination-not-our-client',
      'server-rs-truncated',
      'server-destination-not-global',
      'server-teredo-destination-not-global',
      'server-teredo-destination-port-zero',
    ]) {
      expect(drops.get(reason), reason).toBeGreaterThan(0);
    }
  });
});
