// The reaper: a detached shell loop that tears a lab down when the process owning it dies, however it dies
// (a failed test run, Ctrl-C, SIGKILL of vitest). It is plain sh so it needs neither a build nor Node, and
// it acts only while state.json still carries the lab's token: once `down` ran (and maybe a new lab
// reused the id) it exits without touching anything. `down` also stops it by PID.

import { spawn } from 'node:child_process';
import { LabError } from './errors.js';
import { procId, procStartTime, type ProcId } from './processes.js';

// $1 owner pid, $2 owner start time, $3 lab id, $4 token, $5 lab dir.
// The owner counts as dead when /proc/<pid> is gone, is a zombie, or is a different process (start time).
const REAPER_SCRIPT = `
owner=$1 start=$2 id=$3 token=$4 dir=$5
while :; do
  stat=$(cat /proc/$owner/stat 2>/dev/null) || break
  rest=\${stat##*) }
  set -- $rest
  [ "$1" = Z ] && break
  shift 19
  [ "$1" = "$start" ] || break
  sleep 1
done
grep -q "\\"token\\": \\"$token\\"" "$dir/state.json" 2>/dev/null || exit 0
nss=$(ip netns list | cut -d' ' -f1 | grep "^$id-")
for ns in $nss; do ip netns pids "$ns" | xargs -r kill -9; done
sleep 0.2
for ns in $nss; do ip netns del "$ns"; done
rm -rf "$dir"
`;

export function startReaper(p: { id: string; ownerPid: number; token: string; dir: string }): ProcId {
  const ownerStart = procStartTime(p.ownerPid);
  if (ownerStart === undefined) throw new LabError('LAB_BAD_ARGUMENT', `owner process ${p.ownerPid} does not exist`);
  const child = spawn('sh', ['-c', REAPER_SCRIPT, 'teredo-lab-reaper', String(p.ownerPid), ownerStart, p.id, p.token, p.dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const id = child.pid !== undefined ? procId(child.pid) : undefined;
  if (!id) throw new LabError('LAB_COMMAND_FAILED', 'could not start the lab reaper');
  return id;
}
