// vitest global setup of the `netns` project: brings up one lab for the whole run and tears it down after.
// The lab is owned by this vitest process: if vitest dies without running the teardown (SIGKILL, a crash),
// the lab's reaper notices and removes it. Tests reach the lab through useLab() in ./lab.ts.

import type { TestProject } from 'vitest/node';
import { Lab } from '../../lab/lab.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const lab = await Lab.up({ ownerPid: process.pid, log: (l) => console.error(l) });
  console.error(`netns: lab ${lab.id} up in ${Date.now() - t0} ms`);
  project.provide('tlLabId', lab.id);
  return async () => {
    await lab.down();
  };
}
