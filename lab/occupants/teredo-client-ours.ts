// Our Teredo client (agents/teredo-client) in a client node behind one of the lab's NATs: qualifies against the
// lab's server 198.18.0.10 / .11 (never a public server), with its TUN device `<id>-teredo`, the Teredo address
// and, since client nodes have no IPv6 of their own, the IPv6 default route through it (--default-route auto).
// Ready = qualified (the address is configured). Status reports the NAT type the client itself detected.

import type { OccupantContext, OccupantDefinition, OccupantStatus } from '../occupant.js';
import { agentStatus, assertLabIpv4, describeTeredo } from '../occupant-kit.js';
import type { AgentStatus, StatusBase } from '../../src/runtime/status.js';
import type { HostStatus } from '../../src/runtime/host.js';
import { mappingText, type ClientStatus } from '../../agents/teredo-client/status.js';
import { agentArgv, distFile, missingDist } from '../paths.js';
import { ADDR } from '../topology.js';

const MAIN = 'agents/teredo-client/main.js';
/** The client's log line for qualification (agents/teredo-client/agent.ts stateChanged; pino puts msg last). */
const QUALIFIED_LOG_LINE = /"state":"qualified".*"msg":"state"/;

/**
 * `teredo-client status --json` as one flat object: the runtime's fields and the client's (ClientStatus,
 * agents/teredo-client/status.ts). The client's fields are all optional: absent while lifecycle is 'starting'.
 */
export type TeredoClientLabStatus = StatusBase & Pick<AgentStatus<ClientStatus>, 'lifecycle'> & Partial<HostStatus & ClientStatus>;

/** The client's `status --json` object in the node, or undefined when it does not answer (yet). */
export function teredoClientStatus(ctx: Pick<OccupantContext, 'exec'>): Promise<TeredoClientLabStatus | undefined> {
  return agentStatus<ClientStatus>(ctx, [process.execPath, distFile(MAIN)]) as Promise<TeredoClientLabStatus | undefined>;
}

const client: OccupantDefinition = {
  role: 'client',
  impl: 'ours',
  summary: `teredo-client of ${ADDR.server} (secondary ${ADDR.server2}), NAT type detection, TUN with the Teredo address`,

  unavailable: async () => missingDist(MAIN),

  async launch(ctx) {
    return {
      argv: [
        ...agentArgv(MAIN),
        '--server',
        assertLabIpv4(ADDR.server),
        '--secondary-server',
        assertLabIpv4(ADDR.server2),
        '--interface',
        ctx.plan.tunName,
        // Behind a port-forwarding NAT (zoo nat-pf) the client binds the forwarded port, as a user would.
        ...(ctx.node.nat?.forwardPort !== undefined && ctx.node.name === ctx.node.nat.client ? ['--port', String(ctx.node.nat.forwardPort)] : []),
      ],
    };
  },

  // Its log line "state" with state qualified (the address is on the device by then). Asking `status --json`
  // instead would start a Node process per poll, ~0.2 s of CPU each next to the client being timed (Miredo's
  // readiness is one `ip`), and made ours look 0.5 s slower to qualify than it is (docs/performance.md).
  async ready(ctx) {
    return QUALIFIED_LOG_LINE.test(ctx.log());
  },
  // Qualification takes well under a second; the margin covers a busy machine and a server still starting.
  readyTimeoutMs: 30_000,

  async status(ctx): Promise<OccupantStatus> {
    const s = await teredoClientStatus(ctx);
    if (s?.state === undefined) return { state: 'starting' };
    const detail: Record<string, string> = { ...(s.nat ? { nat: s.nat } : {}), ...(s.address ? describeTeredo(s.address) : {}) };
    const mapping = s.mapping ? mappingText(s.mapping) : '';
    if (mapping !== '') detail.mapping = mapping;
    if (s.qualificationMs !== null && s.qualificationMs !== undefined) detail['qualified in'] = `${s.qualificationMs} ms`;
    if (s.error) detail.error = s.error;
    return { state: s.state, ...(s.address ? { teredoAddress: s.address } : {}), ...(s.nat ? { natType: s.nat } : {}), detail };
  },
};

export const occupants: readonly OccupantDefinition[] = [client];
