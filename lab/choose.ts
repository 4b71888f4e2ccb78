// Choosing the lab's occupants for "every role, ours where it exists" (`npm run demo`, `teredo-lab up
// --preferred`), or "the reference implementation where it exists" (`npm run demo -- --reference`). Availability depends on what is installed (a reference occupant needs its Debian package),
// so the host is prepared FIRST: on a fresh machine scripts/setup-host.sh installs Miredo and radvd, and only
// then is each role judged. Choosing first (the old order) found no reference client, relay or RA sender on
// the first run and ran a smaller demo than the second run.

import { ensureHost } from './host.js';
import { ROLES, type OccupantDefinition, type OccupantRequest, type Role, type ToolProbe } from './occupant.js';
import { installedTool } from './occupant-kit.js';
import { OURS, type OccupantRegistry } from './registry.js';

export interface ChoiceOptions {
  readonly registry: Pick<OccupantRegistry, 'preferred'>;
  /**
   * Makes the host able to run every occupant it can: installs missing packages (default: ensureHost with
   * install, which runs scripts/setup-host.sh as root and throws a LabError when it cannot). Runs before
   * any role is judged.
   */
  readonly prepareHost?: (log?: (line: string) => void) => void;
  /** Which commands are installed (default: the real probe); read only after prepareHost. */
  readonly installed?: ToolProbe;
  readonly roles?: readonly Role[];
  /** Prefer the reference implementations (Miredo, radvd) over ours (`npm run demo -- --reference`). */
  readonly reference?: boolean;
  readonly log?: (line: string) => void;
}

export interface OccupantChoice {
  readonly role: Role;
  /** The chosen occupant; undefined when none can run here. */
  readonly occupant: OccupantDefinition | undefined;
}

/** Prepares the host, then picks each role's preferred runnable occupant (registry.preferred). */
export async function choosePreferredOccupants(opts: ChoiceOptions): Promise<OccupantChoice[]> {
  (opts.prepareHost ?? ((log) => ensureHost({ install: true, ...(log ? { log } : {}) })))(opts.log);
  const choices: OccupantChoice[] = [];
  for (const role of opts.roles ?? ROLES) choices.push({ role, occupant: await opts.registry.preferred(role, opts.installed ?? installedTool, opts.reference ?? false) });
  return choices;
}

/** The requests to start the chosen occupants (roles with none are left empty). */
export function occupantRequests(choices: readonly OccupantChoice[]): OccupantRequest[] {
  return choices.flatMap(({ role, occupant }) => (occupant ? [{ role, impl: occupant.impl }] : []));
}

/** "server: ours", "client: miredo (reference)", "relay: none available". */
export function describeChoice({ role, occupant }: OccupantChoice): string {
  return `${role}: ${occupant ? (occupant.impl === OURS ? 'ours' : `${occupant.impl} (reference)`) : 'none available'}`;
}
