// Watching a teredo-client in a lab node through its `status --json`, for the netns tests that start clients
// by hand (teredo-client-ops, teredo-client-failover).

import { teredoClientStatus, type TeredoClientLabStatus } from '../../lab/occupants/teredo-client-ours.js';
import type { Lab } from './lab.js';

/** The client's status in `node`, or undefined while it does not answer. */
function clientStatus(lab: Lab, node: string): Promise<TeredoClientLabStatus | undefined> {
  return teredoClientStatus({ exec: (argv, o) => lab.exec(node, argv, o) });
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
