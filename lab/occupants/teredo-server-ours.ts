// Our Teredo server (agents/teredo-server) in the lab's server node: UDP 3544 on 198.18.0.10 and .11, and a TUN
// device `<id>-teredo` toward the native IPv6 network (inet6, where host6 lives), so a client's direct IPv6
// connectivity test (RFC 4380 §5.2.9: an Echo Request sent through its server) reaches host6. The kernel must
// forward between that device and inet6, so launch turns IPv6 forwarding on in the server node (the plan
// leaves it off because Miredo's server sends native packets from a raw socket instead). Both addresses are
// in 198.18.0.0/24, which RFC 4380 §5.2.4 counts as global: no --allow-non-global here.
// Readiness: both sockets bound and the agent's "serving" line logged; status comes from its control socket.

import type { OccupantContext, OccupantDefinition, OccupantStatus } from '../occupant.js';
import { agentStatus, udpListeners } from '../occupant-kit.js';
import type { AgentStatus } from '../../src/runtime/status.js';
import type { TeredoServerStatus } from '../../agents/teredo-server/status.js';
import { agentArgv, distFile, missingDist } from '../paths.js';
import { ADDR } from '../topology.js';

const MAIN = 'agents/teredo-server/main.js';
const TEREDO_PORT = 3544;

/** The agent's `status --json` object, or undefined when it does not answer (yet). */
export function teredoServerStatus(ctx: Pick<OccupantContext, 'exec'>): Promise<AgentStatus<TeredoServerStatus> | undefined> {
  return agentStatus<TeredoServerStatus>(ctx, [process.execPath, distFile(MAIN)]);
}

const server: OccupantDefinition = {
  role: 'server',
  impl: 'ours',
  summary: `teredo-server on ${ADDR.server} and ${ADDR.server2}, native IPv6 through a TUN device`,

  unavailable: async () => missingDist(MAIN),

  async launch(ctx) {
    const r = await ctx.exec(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
    if (r.code !== 0) throw new Error(`cannot enable IPv6 forwarding in ${ctx.node.ns}: ${r.stderr.trim()}`);
    return {
      argv: [
        ...agentArgv(MAIN),
        '--address',
        ADDR.server,
        '--secondary-address',
        ADDR.server2,
        '--forward-interface',
        ctx.plan.tunName,
        '--stats-interval',
        '60',
      ],
    };
  },

  async ready(ctx) {
    // "started" comes after "serving" and after the signal handlers are installed, so a test may signal at once.
    if (!ctx.log().includes('"msg":"started"')) return false;
    const bound = await udpListeners(ctx);
    return bound.includes(`${ADDR.server}:${TEREDO_PORT}`) && bound.includes(`${ADDR.server2}:${TEREDO_PORT}`);
  },
  readyTimeoutMs: 10_000,

  async status(ctx): Promise<OccupantStatus> {
    const s = await teredoServerStatus(ctx);
    if (s?.lifecycle !== 'running') return { state: 'starting' };
    const { rsAnswered: rs, raSent: ra, forwarded: fwd } = s;
    const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
    return {
      state: 'serving',
      detail: {
        'RS answered': `${rs.primary} on .10, ${rs.secondary} on .11`,
        'RA from secondary': String(ra.secondary),
        forwarded: `${fwd.teredo} teredo, ${fwd.native} native, ${fwd.fromTun} from native`,
        dropped: String(drops),
      },
    };
  },
};

export const occupants: readonly OccupantDefinition[] = [server];
