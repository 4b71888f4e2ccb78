// Our RA sender (agents/ra-sender) on the ra node of lan6, advertising 2001:db8:66::/64 for SLAAC with the
// same intervals as the radvd occupant (MinRtrAdvInterval 3, MaxRtrAdvInterval 10: lab timing, so hosts that
// come up late hear an RA within seconds), so the two are interchangeable in tests and the demo.
// Readiness: the agent logged "started" (signal handlers installed) and "advertising" (the link-local address
// passed DAD and the first RA is due). Status comes from `ra-sender status --json`.

import type { OccupantContext, OccupantDefinition, OccupantStatus } from '../occupant.js';
import { agentStatus } from '../occupant-kit.js';
import type { RaSenderStatus } from '../../agents/ra-sender/status.js';
import { agentArgv, distFile, missingDist } from '../paths.js';
import { ADDR, iface } from '../topology.js';

const MAIN = 'agents/ra-sender/main.js';
/** MinRtrAdvInterval / MaxRtrAdvInterval in the lab, seconds (as the radvd occupant's config). */
export const LAB_MIN_INTERVAL_S = 3;
export const LAB_MAX_INTERVAL_S = 10;

async function status(ctx: OccupantContext): Promise<OccupantStatus> {
  const s = await agentStatus<RaSenderStatus>(ctx, [process.execPath, distFile(MAIN)]);
  if (s?.lifecycle !== 'running') return { state: 'starting' };
  const i = s.interfaces[0];
  if (!i) return { state: 'starting' };
  return {
    state: i.state,
    detail: { prefix: ADDR.lan6Prefix, from: i.linkLocal ?? '-', sent: `${i.counters?.advertisements ?? 0} RAs, ${i.counters?.answeredUnicast ?? 0} RSs answered` },
  };
}

const raSender: OccupantDefinition = {
  role: 'ra-sender',
  impl: 'ours',
  summary: `ra-sender advertising ${ADDR.lan6Prefix} on lan6 every ${LAB_MIN_INTERVAL_S}-${LAB_MAX_INTERVAL_S} s`,

  unavailable: async () => missingDist(MAIN),

  launch: async (ctx) => ({
    argv: [
      ...agentArgv(MAIN),
      '--interface', iface(ctx.plan, ctx.node.name, 'lan6'),
      '--prefix', ADDR.lan6Prefix,
      '--min-interval', String(LAB_MIN_INTERVAL_S),
      '--max-interval', String(LAB_MAX_INTERVAL_S),
    ],
  }),

  ready: async (ctx) => ctx.log().includes('"msg":"started"') && ctx.log().includes('"msg":"advertising"'),
  readyTimeoutMs: 10_000,

  status,
};

export const occupants: readonly OccupantDefinition[] = [raSender];
