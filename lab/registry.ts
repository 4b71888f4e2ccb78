// Finds every occupant: each module in lab/occupants/ exports `occupants: readonly OccupantDefinition[]`.
// Discovery is by directory listing so adding an occupant is one new file, no list to edit.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LabError } from './errors.js';
import type { OccupantDefinition, Role, ToolProbe } from './occupant.js';
import { installedTool } from './occupant-kit.js';

export const OURS = 'ours';

export class OccupantRegistry {
  constructor(readonly all: readonly OccupantDefinition[]) {}

  get(role: Role, impl: string): OccupantDefinition {
    const d = this.all.find((o) => o.role === role && o.impl === impl);
    if (!d) {
      const known = this.implsFor(role);
      throw new LabError('LAB_BAD_ARGUMENT', `no ${impl} occupant for role ${role}; known: ${known.length ? known.join(', ') : 'none yet'}`);
    }
    return d;
  }

  implsFor(role: Role): string[] {
    return this.all.filter((o) => o.role === role).map((o) => o.impl);
  }

  /**
   * `ours` when registered and runnable, else the first runnable reference implementation, else undefined;
   * with `reference`, the other way round (Miredo / radvd where they exist, ours for the roles they lack).
   * Judged with the tools installed NOW: on a fresh machine, install first (choose.ts) or the reference
   * implementations all look unavailable.
   */
  async preferred(role: Role, installed: ToolProbe = installedTool, reference = false): Promise<OccupantDefinition | undefined> {
    const rank = (o: OccupantDefinition): number => Number((o.impl === OURS) !== reference);
    const candidates = this.all.filter((o) => o.role === role).sort((a, b) => rank(b) - rank(a));
    for (const c of candidates) if ((await c.unavailable(installed)) === undefined) return c;
    return undefined;
  }
}

let cached: Promise<OccupantRegistry> | undefined;

export function loadRegistry(): Promise<OccupantRegistry> {
  cached ??= discover();
  return cached;
}

async function discover(): Promise<OccupantRegistry> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'occupants');
  // From dist/ the modules are .js; under vitest they are the .ts sources.
  const files = readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const all: OccupantDefinition[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { occupants?: readonly OccupantDefinition[] };
    if (!Array.isArray(mod.occupants)) throw new Error(`${f}: an occupant module must export \`occupants\` (an array)`);
    for (const o of mod.occupants) {
      if (all.some((x) => x.role === o.role && x.impl === o.impl)) throw new Error(`${f}: duplicate occupant ${o.role}/${o.impl}`);
      all.push(o);
    }
  }
  return new OccupantRegistry(all);
}
