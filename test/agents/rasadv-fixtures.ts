// The agent host's seams for the rasadv tests (rasadv-advertise-agent.test.ts, rasadv-listen-agent.test.ts): a fixed
// interface table as the host's facts, FakeDatagramPorts (each kept with the options it was opened with) and a
// FakeClock; and configs validated as the runtime validates flags.
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { FakeHost, fakeInterface } from '../fakes/fake-host.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig, type ConfigSpec } from '../../src/runtime/config.js';
import type { DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { HostDeps } from '../../src/runtime/host.js';
import { seededRandom } from '../../src/engine/types.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

export const NIC_LIST = [fakeInterface('lo', ['127.0.0.1'], { loopback: true }), fakeInterface('eth0', ['192.0.2.1']), fakeInterface('eth1', ['198.51.100.1'])];
export const NICS = new FakeHost({ interfaces: NIC_LIST });
/** [MS-RASA] §2.1: the advertisement group, 239.255.2.2 (port 9753). */
export const GROUP = parseIpv4('239.255.2.2');

export function config<T>(spec: ConfigSpec<T>, flags: Record<string, unknown>): T {
  const r = validateConfig(spec, { flags });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

/** The host's seams: fake sockets (each one opened is kept with its options), a fake clock, NICS as the interfaces. */
export function fakeHost(start = 0) {
  const clock = new FakeClock(start);
  const opened: { options: DatagramPortOptions; port: FakeDatagramPort }[] = [];
  const deps: HostDeps = {
    clock,
    timers: clock,
    random: seededRandom(1),
    facts: NICS,
    openPort: (options) => {
      const port = new FakeDatagramPort({ addr: options.address ?? 0, port: options.port || 40_000 + opened.length });
      opened.push({ options, port });
      return Promise.resolve(port);
    },
  };
  return { clock, opened, deps };
}

/** `status` as the runtime renders it, with a fixed header (pid 7, up 1m5s). */
export const STATUS_BASE = { instance: null, pid: 7, uptimeSec: 65, reloads: 0, lifecycle: 'running' as const };
