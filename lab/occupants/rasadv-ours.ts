// Our rasadv agent ([MS-RASA]) in the lab's multicast LAN (mlan 192.168.77.0/24, a bridge without IGMP
// snooping): `rasadv advertise` on adv (192.168.77.1) as the RAS server, `rasadv listen` on lst1 and lst2.
// Lab timing, not production: the advertiser repeats every 10 s instead of every hour (§3.1.2), and listeners
// expect that interval, so a stopped advertiser is shown stale after 20 s. Listeners authorise the lab's own
// advertiser by name, so any other server on the LAN shows as UNKNOWN.
// Readiness and status come from the agents' control sockets (`rasadv advertise|listen status --json`), typed
// by the agent's own status definitions (agents/rasadv/status.ts).

import type { OccupantDefinition, OccupantStatus } from '../occupant.js';
import { agentStatus } from '../occupant-kit.js';
import type { AdvertiseStatus, ListenStatus } from '../../agents/rasadv/status.js';
import { agentArgv, distFile, missingDist } from '../paths.js';
import { iface } from '../topology.js';

const MAIN = 'agents/rasadv/main.js';
/** Lab advertisement interval, seconds. */
export const LAB_INTERVAL_S = 10;
/** Host name the lab's advertiser sends (NetBIOS style, like the seed capture's JYRAALAN2K). */
export const LAB_HOSTNAME = 'LAB-RRAS';

const program = (mode: 'advertise' | 'listen'): string[] => [process.execPath, distFile(MAIN), mode];

const advertiser: OccupantDefinition = {
  role: 'rasadv',
  impl: 'ours',
  summary: `rasadv advertise: Hostname=${LAB_HOSTNAME} to 239.255.2.2:9753 on mlan every ${LAB_INTERVAL_S} s`,

  unavailable: async () => missingDist(MAIN),

  launch: async (ctx) => ({
    argv: [...agentArgv(MAIN), 'advertise', '--interface', iface(ctx.plan, ctx.node.name, 'mlan'), '--hostname', LAB_HOSTNAME, '--interval', String(LAB_INTERVAL_S)],
  }),

  // Ready once the start advertisement went out (the agent logs each send).
  // "started": signal handlers are installed (a test may send SIGUSR1 or SIGTERM at once).
  ready: async (ctx) => ctx.log().includes('"msg":"started"') && ctx.log().includes('"msg":"advertisement sent"'),
  readyTimeoutMs: 10_000,

  async status(ctx): Promise<OccupantStatus> {
    const s = await agentStatus<AdvertiseStatus>(ctx, program('advertise'));
    if (s?.lifecycle !== 'running') return { state: 'starting' };
    return {
      state: 'advertising',
      detail: { hostname: s.hostname, sent: s.interfaces.map((i) => `${i.address ?? i.iface}: ${i.sent} (next in ${i.nextInSec} s)`).join(', ') },
    };
  },
};

const listener: OccupantDefinition = {
  role: 'rasadv-listener',
  impl: 'ours',
  summary: `rasadv listen --json on mlan, --allow ${LAB_HOSTNAME}, stale after ${2 * LAB_INTERVAL_S} s`,

  unavailable: async () => missingDist(MAIN),

  launch: async (ctx) => ({
    argv: [...agentArgv(MAIN), 'listen', '--json', '--interface', iface(ctx.plan, ctx.node.name, 'mlan'), '--allow', LAB_HOSTNAME, '--interval', String(LAB_INTERVAL_S)],
  }),

  ready: async (ctx) => ctx.log().includes('"msg":"started"'),
  readyTimeoutMs: 10_000,

  async status(ctx): Promise<OccupantStatus> {
    const s = await agentStatus<ListenStatus>(ctx, program('listen'));
    if (s?.lifecycle !== 'running') return { state: 'starting' };
    const servers = s.list.map((x) => `${x.sender} ${x.hostname}${x.known ? '' : ' UNKNOWN'}${x.stale ? ' stale' : ''} (${x.count})`);
    return { state: 'listening', detail: { servers: servers.join(', ') || 'none heard yet' } };
  },
};

export const occupants: readonly OccupantDefinition[] = [advertiser, listener];
