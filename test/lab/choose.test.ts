// Item 10 of issue 8: on a fresh machine the demo (and `teredo-lab up --preferred`) must install what it needs
// BEFORE judging which occupants can run, so the first run chooses what every later run chooses. Run with the
// real registry (every occupant module in lab/occupants) and an injected tool-presence probe: the tools
// start absent, and the injected host preparation "installs" them, as scripts/setup-host.sh does.

import { describe, expect, it } from 'vitest';
import { choosePreferredOccupants, describeChoice, occupantRequests } from '../../lab/choose.js';
import { LabError } from '../../lab/errors.js';
import { loadRegistry, OURS } from '../../lab/registry.js';

/** The commands of the reference occupants (Debian packages miredo, miredo-server, radvd). */
const REFERENCE_TOOLS = ['miredo', 'miredo-server', 'radvd'];

/** A host with nothing installed; `install` plays setup-host.sh. Records the order of events. */
function freshHost() {
  const present = new Set<string>();
  const events: string[] = [];
  return {
    events,
    installed: (cmd: string): boolean => {
      events.push(`probe ${cmd}`);
      return present.has(cmd);
    },
    install: (): void => {
      events.push('install');
      for (const t of REFERENCE_TOOLS) present.add(t);
    },
  };
}

describe('choosing the preferred occupants', () => {
  it('prefers ours for every role; with reference, Miredo and radvd where they exist and ours elsewhere', async () => {
    const registry = await loadRegistry();
    const host = freshHost();
    const ours = await choosePreferredOccupants({ registry, prepareHost: host.install, installed: host.installed });
    expect(ours.map(describeChoice).filter((d) => !d.endsWith(': ours'))).toEqual([]);
    const reference = await choosePreferredOccupants({ registry, prepareHost: () => {}, installed: host.installed, reference: true });
    const byRole = Object.fromEntries(reference.map((c) => [c.role, c.occupant?.impl]));
    expect(byRole).toMatchObject({ server: 'miredo', relay: 'miredo', client: 'miredo', 'ra-sender': 'radvd' });
  });

  it('installs first, so the first run on a fresh machine chooses what the second run does', async () => {
    const registry = await loadRegistry();
    const host = freshHost();
    const first = await choosePreferredOccupants({ registry, prepareHost: host.install, installed: host.installed, reference: true });
    expect(host.events[0]).toBe('install');
    expect(host.events.slice(1).every((e) => e.startsWith('probe '))).toBe(true);

    const second = await choosePreferredOccupants({ registry, prepareHost: () => {}, installed: host.installed, reference: true });
    expect(first.map(describeChoice)).toEqual(second.map(describeChoice));
    // With the packages in, every Teredo role and the RA sender have an occupant (a reference one at least).
    for (const role of ['server', 'relay', 'client', 'ra-sender']) expect(first.find((c) => c.role === role)?.occupant, role).toBeDefined();
    expect(occupantRequests(first).map((r) => r.role)).toEqual(first.filter((c) => c.occupant).map((c) => c.role));
  });

  it('judged with the tools still absent (the old order), no reference occupant can be chosen', async () => {
    const registry = await loadRegistry();
    const host = freshHost();
    const choices = await choosePreferredOccupants({ registry, prepareHost: () => {}, installed: host.installed, reference: true });
    expect(choices.filter((c) => c.occupant && c.occupant.impl !== OURS)).toEqual([]);
    expect(host.events.length).toBeGreaterThan(0); // the probe was asked, and said no
  });

  it('a host that cannot be prepared (not root, install failed) chooses nothing and says why', async () => {
    const registry = await loadRegistry();
    const host = freshHost();
    const fail = (): void => {
      throw new LabError('LAB_NOT_ROOT', 'the lab needs root');
    };
    await expect(choosePreferredOccupants({ registry, prepareHost: fail, installed: host.installed })).rejects.toMatchObject({ code: 'LAB_NOT_ROOT' });
    expect(host.events).toEqual([]);
  });

  it('describes each choice for the demo header', () => {
    const d = { role: 'client' as const, impl: 'miredo' } as Parameters<typeof describeChoice>[0]['occupant'];
    expect(describeChoice({ role: 'client', occupant: d })).toBe('client: miredo (reference)');
    expect(describeChoice({ role: 'relay', occupant: undefined })).toBe('relay: none available');
  });
});
