// The running lab for netns tests. global-setup.ts brings one lab up per `vitest --project netns` run (and
// always tears it down, even if vitest is killed); a test file calls useLab() at top level to get it:
//
//   import { useLab, ADDR } from './lab.js';
//   const lab = useLab();
//   it('pings', async () => {
//     await lab.startOccupants([{ role: 'server', impl: 'miredo' }, { role: 'client', impl: 'ours', node: 'cli-prc' }]);
//     const r = await lab.exec('cli-prc', ['ping', '-6', '-c1', ADDR.host6]);
//   });
//
// Files run one at a time. Each file starts with no occupants and its occupants are stopped after its tests,
// so files do not see each other's daemons. Processes a test spawns with lab.spawn() die with the lab; kill
// them in the test when they would disturb later tests.

import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { describeTeredo } from '../../lab/occupant-kit.js';
import { distFile, missingDist } from '../../lab/paths.js';

export { ADDR, NAT_SITES } from '../../lab/topology.js';
export type { Lab } from '../../lab/lab.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Id of the lab global-setup.ts brought up (e.g. `tl3f`). */
    tlLabId: string;
  }
}

async function stopAllOccupants(lab: Lab): Promise<void> {
  for (const o of lab.occupants()) await lab.stopOccupant(o.key);
}

/** The run's lab; registers hooks that leave it without occupants before and after this file. */
export function useLab(): Lab {
  const lab = Lab.attach(inject('tlLabId'));
  beforeAll(() => stopAllOccupants(lab));
  afterAll(() => stopAllOccupants(lab));
  return lab;
}

/**
 * Starts a Teredo server (`server`), Debian's Miredo relay and a Miredo client behind the port-restricted NAT
 * (cli-prc), and checks the client qualified (RFC 4380 §5.2.1): its address is under the Teredo prefix with
 * server 198.18.0.10 (2001:0:c612:a::/64) and its mapping is the NAT's public address.
 */
export async function expectMiredoClientQualifies(lab: Lab, server: 'ours' | 'miredo'): Promise<void> {
  await lab.startOccupants([
    { role: 'server', impl: server },
    { role: 'relay', impl: 'miredo' },
    { role: 'client', impl: 'miredo', node: 'cli-prc' },
  ]);
  const client = lab.occupants().find((o) => o.key === 'client@cli-prc')!;
  const status = await lab.occupantStatus(client);
  expect(status.state).toBe('qualified');
  expect(status.teredoAddress).toMatch(/^2001:0:c612:a:/);
  expect(describeTeredo(status.teredoAddress!).mapped).toMatch(/^198\.18\.0\.101:\d+$/);
}

/** argv running the compiled udp-probe tool (lab/tools/udp-probe.ts); needs `npm run build`. */
export function udpProbe(...args: string[]): string[] {
  const rel = 'lab/tools/udp-probe.js';
  const missing = missingDist(rel);
  if (missing) throw new Error(missing);
  return [process.execPath, distFile(rel), ...args];
}

/** Collects a child's stdout as JSON lines and lets a test wait for the one it needs. */
export class JsonLines {
  readonly lines: Record<string, unknown>[] = [];
  private waiters: Array<() => void> = [];
  private stderr = '';
  private exited = false;

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      this.wake();
    });
    child.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString()));
    child.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  /** Resolves with the first line having `key`; rejects on timeout or when the child exits first. */
  async next(key: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => key in l);
      if (hit) return hit;
      if (this.exited) throw new Error(`process exited before printing "${key}": ${this.stderr.trim()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for "${key}"; got ${JSON.stringify(this.lines)} ${this.stderr.trim()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
