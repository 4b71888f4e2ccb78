// Our Teredo relay (agents/teredo-relay) in the lab's relay node: UDP 198.18.0.20:3545 and a TUN device
// `<id>-teredo` routing 2001::/32, the node forwarding IPv6 between it and inet6 (host6 routes 2001::/32 to
// the node's 2001:db8:6::20, which is also the source of the relay's ICMPv6 errors). 198.18.0.0/24 counts as
// global (RFC 4380 §5.2.4): no --allow-non-global. Miredo's relay (occupants/miredo.ts) stays selectable.
// Readiness: the agent logged "started" (after "relaying": socket bound, device routed) and the route exists.

import type { OccupantContext, OccupantDefinition, OccupantStatus } from '../occupant.js';
import { agentStatus, udpListeners } from '../occupant-kit.js';
import type { AgentStatus } from '../../src/runtime/status.js';
import type { TeredoRelayStatus } from '../../agents/teredo-relay/status.js';
import { agentArgv, distFile, missingDist } from '../paths.js';
import { ADDR } from '../topology.js';

const MAIN = 'agents/teredo-relay/main.js';
/** The relay's fixed UDP port (the agent's default), so that a restarted relay keeps the mapping clients trust. */
export const RELAY_PORT = 3545;

/** The agent's `status --json` object, or undefined when it does not answer (yet). */
export function teredoRelayStatus(ctx: Pick<OccupantContext, 'exec'>): Promise<AgentStatus<TeredoRelayStatus> | undefined> {
  return agentStatus<TeredoRelayStatus>(ctx, [process.execPath, distFile(MAIN)]);
}

const relay: OccupantDefinition = {
  role: 'relay',
  impl: 'ours',
  summary: `teredo-relay on ${ADDR.relay}:${RELAY_PORT}, 2001::/32 through a TUN device`,

  unavailable: async () => missingDist(MAIN),

  async launch(ctx) {
    return {
      argv: [
        ...agentArgv(MAIN),
        '--interface',
        ctx.plan.tunName,
        '--bind',
        ADDR.relay,
        '--port',
        String(RELAY_PORT),
        '--icmpv6-source',
        ADDR.relay6,
        '--stats-interval',
        '60',
      ],
    };
  },

  async ready(ctx) {
    if (!ctx.log().includes('"msg":"started"')) return false;
    if (!(await udpListeners(ctx)).includes(`${ADDR.relay}:${RELAY_PORT}`)) return false;
    const r = await ctx.exec(['ip', '-6', 'route', 'show', 'dev', ctx.plan.tunName]);
    return r.code === 0 && /^2001::\/32/m.test(r.stdout);
  },
  readyTimeoutMs: 10_000,

  async status(ctx): Promise<OccupantStatus> {
    const s = await teredoRelayStatus(ctx);
    if (s?.lifecycle !== 'running') return { state: 'starting' };
    const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
    return {
      state: 'relaying',
      detail: {
        peers: `${s.peers} (${s.trusted} trusted)`,
        packets: `${s.toTeredo.packets} to Teredo, ${s.toNative.packets} to native`,
        bubbles: `${s.bubblesSent} sent, ${s.bubblesReceived} received`,
        dropped: String(drops),
      },
    };
  },
};

export const occupants: readonly OccupantDefinition[] = [relay];
