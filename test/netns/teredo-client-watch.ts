// Watching a teredo-client in a lab node through its `status --json`, for the netns tests that start clients
// by hand (teredo-client-ops, teredo-client-failover), and pinging from a node (teredo-client, teredo-client-zoo).

import { teredoClientStatus, type TeredoClientLabStatus } from '../../lab/occupants/teredo-client-ours.js';
import type { Lab } from './lab.js';

/** The client's status in `node`, or undefined while it does not answer. */
function clientStatus(lab: Lab, node: string): Promise<TeredoClientLabStatus | undefined> {
  return teredoClientStatus({ exec: (argv, o) => lab.exec(node, argv, o) });
}

/** The client's status in `node`; throws when it does not answer. */
export async function requireClientStatus(lab: Lab, node: string): Promise<TeredoClientLabStatus> {
  const s = await clientStatus(lab, node);
  if (!s) throw new Error(`teredo-client in ${node} did not answer status`);
  return s;
}

/** Echo Replies received out of `count` pings from `node` to `dst`, `intervalS` apart, each waited for `waitS`. */
export async function pingCount(lab: Lab, node: string, dst: string, count: number, intervalS = 0.3, waitS = 2): Promise<number> {
  const r = await lab.exec(node, ['ping', '-6', '-n', '-c', String(count), '-i', String(intervalS), '-W', String(waitS), dst]);
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
}

/** Polls every 200 ms until `ok(status)` holds; the deadline is generous, it only stops a broken run. */
export async function waitForClient(lab: Lab, node: string, what: string, ok: (s: TeredoClientLabStatus) => boolean, deadlineMs = 30_000): Promise<TeredoClientLabStatus> {
  const end = Date.now() + deadlineMs;
  let last: TeredoClientLabStatus | undefined;
  while (Date.now() < end) {
    last = await clientStatus(lab, node);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${node}: not ${what} in ${deadlineMs} ms; last status ${JSON.stringify(last)}`);
}
