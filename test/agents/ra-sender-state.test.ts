// The renumbering state file (agents/ra-sender/renumbering-state.ts): round trip, atomic write, tolerance of
// hostile or broken files, and the RFC 9096 §3.3 lifetime caps.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RaSender } from '../../src/engine/ra/sender.js';
import { seededRandom } from '../../src/engine/types.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { FULL, config } from '../engine/ra-fixtures.js';
import { StateSaver, capLifetimes, readState, snapshot, stateFilePath, writeState, type StateSource } from '../../agents/ra-sender/renumbering-state.js';
import { capturedLogger } from '../fakes/log-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'ra-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text?: string): string => {
  const path = join(dir, `s${++n}.json`);
  if (text !== undefined) writeFileSync(path, text);
  return path;
};
const WALL = 1_700_000_000_000;
const entry = (prefix: string, validUntil: unknown) => ({ prefix, onLink: true, autonomous: true, routerAddress: false, validUntil });
const read = (path: string) => {
  const r = readState(path, WALL);
  return { problem: r.problem, interfaces: Object.fromEntries([...r.interfaces].map(([k, v]) => [k, v.map((p) => `${formatIpv6(p.prefix.prefix)}/${p.prefix.prefixLength} ${p.validUntil - WALL}`)])) };
};

describe('renumbering state file', () => {
  it('saves what the engine leaves on the hosts and reads it back', () => {
    const p67 = { ...FULL.prefixes[0]!, prefix: parseIpv6('2001:db8:67::') };
    const e = new RaSender(config({}, { ...FULL, prefixes: [FULL.prefixes[0]!, p67] }), seededRandom(1));
    e.reload(config(), 10_000); // 2001:db8:67::/64 (valid 86400 s) leaves at monotonic 10 s
    const saved = snapshot(e, 20_000, WALL);
    // Advertised: valid lifetime after the next refresh (60 s); deprecated: its countdown, in wall-clock time.
    expect(saved.map((s) => `${s.prefix} ${s.validUntil - WALL}`)).toEqual(['2001:db8:66::/64 86460000', '2001:db8:67::/64 86390000']);
    const path = file();
    writeState(path, new Map([['eth1', saved]]));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(read(path)).toEqual({ problem: undefined, interfaces: { eth1: ['2001:db8:66::/64 86460000', '2001:db8:67::/64 86390000'] } });
    expect(stateFilePath('/var/lib/ra-sender', undefined)).toBe('/var/lib/ra-sender/ra-sender.state.json');
    expect(stateFilePath('/var/lib/ra-sender', 'lan')).toBe('/var/lib/ra-sender/ra-sender-lan.state.json');
  });

  it('ignores a missing, oversized, non-JSON or foreign file with a reason, never throwing', () => {
    expect(read(join(dir, 'none.json'))).toEqual({ problem: undefined, interfaces: {} });
    expect(read(file('x'.repeat(256 * 1024 + 1))).problem).toMatch(/is 262145 bytes, more than 262144: ignored$/);
    expect(read(file('{"version":1,'))).toMatchObject({ problem: expect.stringMatching(/is not JSON: ignored$/) });
    expect(read(file('{"version":2,"interfaces":{}}')).problem).toMatch(/not a version 1 ra-sender state file/);
    expect(read(file('[1,2]')).problem).toMatch(/not a version 1 ra-sender state file/);
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    expect(read(sub).problem).toMatch(/is not a regular file: ignored$/);
  });

  it('keeps the valid entries of a damaged file, drops expired ones quietly, and caps a far future at 30 days', () => {
    const doc = {
      version: 1,
      interfaces: {
        eth1: [
          entry('2001:db8:1::/64', WALL + 5000),
          entry('2001:db8:2::/64', WALL - 1), // expired while we were down: normal
          entry('2001:db8:3::1/64', WALL + 5000), // host bits: malformed
          entry('not a prefix', WALL + 5000),
          entry('2001:db8:4::/64', 'soon'),
          { ...entry('2001:db8:5::/64', WALL + 5000), onLink: 'yes' },
          entry('2001:db8:6::/64', WALL + 1e15),
          null,
        ],
        eth2: 'nonsense',
      },
    };
    expect(read(file(JSON.stringify(doc)))).toEqual({ problem: expect.stringMatching(/: 5 malformed entries ignored$/), interfaces: { eth1: ['2001:db8:1::/64 5000', `2001:db8:6::/64 ${30 * 86_400_000}`] } });
  });

  it('caps advertised lifetimes (RFC 9096 §3.3: 2700 s preferred, 5400 s valid), preferred never above valid', () => {
    const p = FULL.prefixes[0]!;
    const capped = capLifetimes([p, { ...p, validLifetimeSec: 600, preferredLifetimeSec: 300 }], { maxPreferredLifetimeSec: 2700, maxValidLifetimeSec: 5400 });
    expect(capped.map((c) => [c.preferredLifetimeSec, c.validLifetimeSec])).toEqual([[2700, 5400], [300, 600]]);
    expect(capLifetimes([p], { maxPreferredLifetimeSec: undefined, maxValidLifetimeSec: 1000 }).map((c) => [c.preferredLifetimeSec, c.validLifetimeSec])).toEqual([[1000, 1000]]);
    expect(capLifetimes([p], { maxPreferredLifetimeSec: undefined, maxValidLifetimeSec: undefined })[0]).toEqual(p);
  });

  it('saves on a change or every 60 s, not on every poll; a failed write is logged once a minute, never thrown', async () => {
    const source = { name: 'eth1', renumberingVersion: 1, saves: 0, stored(): [] { this.saves++; return []; } } satisfies StateSource & { saves: number };
    const { logger, lines } = capturedLogger('ra-sender');
    const saver = new StateSaver(file(), logger);
    saver.save([source], 0);
    saver.save([source], 59_999);
    expect(source.saves).toBe(1);
    source.renumberingVersion = 2;
    saver.save([source], 60_000);
    saver.save([source], 120_000);
    saver.save([source], 120_001, true);
    expect(source.saves).toBe(4);
    saver.path = join(dir, 'missing-dir', 'state.json');
    saver.save([source], 130_000);
    saver.save([source], 131_000);
    await new Promise((r) => setImmediate(r));
    expect(lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('cannot save the renumbering state')).length).toBe(1);
  });
});
