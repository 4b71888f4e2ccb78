// The agent host (src/runtime/host.ts) with a small made-up agent on fake ports and a fake clock: one error
// translation and clean-up for every port kind, I/O errors counted per port and logged at most once a minute,
// the generic steps feeding an engine (one clock read per batch), drops summed over drivers, the "counters" log
// line for every agent, and reload computed from the fields' live flags.

import { describe, expect, it } from 'vitest';
import type { DropSink, Millis, TimedEngine } from '../../src/engine/types.js';
import type { DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { DatagramBatch } from '../../src/io/ports.js';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { validateConfig } from '../../src/runtime/config.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { runAgent, STATS_INTERVAL_FIELD, type CommonConfig, type EngineInput, type Host, type HostDeps } from '../../src/runtime/host.js';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { FakeTun } from '../fakes/fake-tun.js';
import { capturedLogger } from '../fakes/log-capture.js';

interface EchoConfig extends CommonConfig {
  readonly port: number;
  readonly device: string;
  readonly greeting: string;
}

const spec: ConfigSpec<EchoConfig> = {
  fields: {
    port: { type: 'integer', default: 7000, min: 0, max: 65535, description: 'restart-only' },
    device: { type: 'string', default: 'echo0', description: 'restart-only' },
    greeting: { type: 'string', default: 'hi', live: true, description: 'live' },
    statsInterval: STATS_INTERVAL_FIELD,
  },
};

const config = (flags: Record<string, unknown> = {}): EchoConfig => {
  const r = validateConfig(spec, { flags });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
};

interface EchoSink extends DropSink {
  echo(data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
}

/** Echoes datagrams of 4 bytes or more, drops shorter ones (reason 0); remembers the `now` of each. */
class EchoEngine implements TimedEngine<EchoSink> {
  readonly dropReasons = ['too-short'];
  readonly seenAt: Millis[] = [];
  handleTimeout(): void {}
  nextTimeout(): Millis | undefined {
    return undefined;
  }
  datagram(data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: EchoSink): void {
    this.seenAt.push(now);
    if (length < 4) sink.drop(0);
    else sink.echo(data, offset, length, addr, port);
  }

  /** The batch input: the sizes of the batches it was handed whole. */
  readonly batches: number[] = [];
  datagrams(batch: DatagramBatch, now: Millis, sink: EchoSink): void {
    this.batches.push(batch.count);
    for (let i = 0; i < batch.count; i++) this.datagram(batch.data, batch.offset(i), batch.length(i), batch.sourceAddr(i), batch.sourcePort(i), now, sink);
  }
}

function world(opts: { failTun?: boolean; failBind?: number } = {}) {
  const clock = new FakeClock();
  const ports: FakeDatagramPort[] = [];
  const tuns: FakeTun[] = [];
  const deps: HostDeps = {
    clock,
    timers: clock,
    openPort: (o: DatagramPortOptions) => {
      if (o.port === opts.failBind) return Promise.reject(Object.assign(new Error('bind'), { cause: Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' }) }));
      const p = new FakeDatagramPort({ addr: o.address ?? 0, port: o.port ?? 0 });
      ports.push(p);
      return Promise.resolve(p);
    },
    openTun: (o) => {
      if (opts.failTun) throw new Error('open /dev/net/tun: EPERM');
      const t = new FakeTun(o.name);
      tuns.push(t);
      return t;
    },
  };
  const log = capturedLogger('echo');
  const reloads: string[][] = [];
  const engines: EchoEngine[] = [];
  const setup = async (host: Host<EchoConfig>) => {
    const a = await host.udp('a', { port: host.config.port });
    const b = await host.udp('b', { port: host.config.port + 1 });
    host.tun('tun', { name: host.config.device }, [{ prefix: new Uint8Array(16), length: 0 }]);
    for (const port of [a, b]) {
      const engine = new EchoEngine();
      engines.push(engine);
      // Port a per datagram, port b per batch (the engine's own loop, as the relay's).
      const input: EngineInput<EchoSink> =
        port === a ? { from: port, datagram: (d, o, l, addr, p, now, s) => engine.datagram(d, o, l, addr, p, now, s) } : { from: port, datagrams: (batch, now, s) => engine.datagrams(batch, now, s) };
      host.drive<EchoSink>(engine, (drop) => ({ drop, echo: (d, o, l, addr, p) => port.send(d, o, l, addr, p) }), [input]);
    }
    return { status: () => ({ greeting: host.config.greeting }), reload: (_: EchoConfig, changed: readonly string[]) => void reloads.push([...changed]) };
  };
  const start = (c = config()) => runAgent(spec, setup, { name: 'echo', instance: undefined, config: c, logger: log.logger, fatal: () => undefined }, deps);
  return { clock, ports, tuns, log, reloads, engines, start };
}

const FROM = { addr: 0xc6120065 | 0, port: 40000 }; // 198.18.0.101, int32 as the ports hand it over

describe('the agent host', () => {
  it('feeds each port to its engine, one clock read per batch, and sums drops over drivers', async () => {
    const w = world();
    const agent = await w.start();
    w.clock.advance(5);
    w.ports[0]!.deliverBatch([{ bytes: new Uint8Array([1, 2, 3, 4]), from: FROM }, { bytes: new Uint8Array([1]), from: FROM }]);
    w.clock.advance(5);
    w.ports[1]!.deliver(new Uint8Array([9]), FROM);
    w.ports[1]!.deliverBatch([{ bytes: new Uint8Array([5, 6, 7, 8]), from: FROM }, { bytes: new Uint8Array([2]), from: FROM }, { bytes: new Uint8Array([9, 9, 9, 9]), from: FROM }]);
    expect(w.ports[0]!.sent).toEqual([{ bytes: new Uint8Array([1, 2, 3, 4]), to: FROM }]);
    expect(w.ports[1]!.sent).toEqual([{ bytes: new Uint8Array([5, 6, 7, 8]), to: FROM }, { bytes: new Uint8Array([9, 9, 9, 9]), to: FROM }]);
    expect(w.engines.map((e) => e.seenAt)).toEqual([[5, 5], [10, 10, 10, 10]]);
    expect(w.engines.map((e) => e.batches)).toEqual([[], [1, 3]]);
    expect(agent.status()).toMatchObject({ greeting: 'hi', drops: { 'too-short': 3 }, ioErrors: { a: 0, b: 0, tun: 0 }, driver: { batches: 3, errors: 0 } });
    await agent.stop();
  });

  it('a port that cannot be opened: one translation naming it, and every port opened before is closed', async () => {
    const bind = world({ failBind: 7001 });
    await expect(bind.start()).rejects.toMatchObject({ code: 'IO_BIND', message: 'cannot bind UDP 0.0.0.0:7001 (b): address already in use' });
    expect(bind.ports.map((p) => p.closed)).toEqual([true]);
    const tun = world({ failTun: true });
    await expect(tun.start()).rejects.toMatchObject({ code: 'IO_TUN_OPEN', message: expect.stringContaining('cannot create TUN device "echo0"') });
    expect(tun.ports.map((p) => p.closed)).toEqual([true, true]);
  });

  it('counts I/O errors per port, logs them at most once a minute with the number held back', async () => {
    const w = world();
    const agent = await w.start();
    for (let i = 0; i < 3; i++) w.ports[1]!.raise(new Error('sendmmsg: ENOBUFS'));
    w.clock.advance(60_000);
    w.tuns[0]!.injectError(new Error('write: EIO'));
    w.ports[1]!.raise(new Error('sendmmsg: ENOBUFS'));
    expect(agent.status().ioErrors).toEqual({ a: 0, b: 4, tun: 1 });
    const lines = w.log.lines.filter((l) => l.msg === 'i/o error');
    expect(lines.map((l) => [l.where, l.suppressed])).toEqual([['b', 0], ['tun', 0], ['b', 2]]);
    await agent.stop();
  });

  it('stop closes every port (the route before its device) after the agent\'s own stop', async () => {
    const w = world();
    const agent = await w.start();
    await agent.stop();
    expect(w.ports.map((p) => p.closed)).toEqual([true, true]);
    expect(w.tuns[0]!.config.map((c) => c.op)).toEqual(['up', 'add-route', 'remove-route']);
    expect(w.tuns[0]!.closed).toBe(true);
    expect(w.log.lines.filter((l) => l.msg === 'counters')).toHaveLength(1);
  });

  it('logs "counters" every statsInterval seconds for any agent; a reload re-arms it, 0 turns it off', async () => {
    const w = world();
    const agent = await w.start(config({ 'stats-interval': '10' }));
    const counters = () => w.log.lines.filter((l) => l.msg === 'counters');
    w.clock.advance(9_999);
    expect(counters()).toHaveLength(0);
    w.clock.advance(1);
    expect(counters()).toEqual([expect.objectContaining({ level: 'info', greeting: 'hi', drops: {}, ioErrors: { a: 0, b: 0, tun: 0 } })]);
    await agent.reload(config({ 'stats-interval': '0' }));
    w.clock.advance(100_000);
    expect(counters()).toHaveLength(1);
    expect(w.clock.pendingTimers).toBe(0);
    await agent.stop();
  });

  it('reload: restart-only fields keep their running values and are named once; live ones reach the agent', async () => {
    const w = world();
    const agent = await w.start();
    await agent.reload(config({ port: '7100', device: 'echo1', greeting: 'hello' }));
    expect(w.log.lines.filter((l) => l.msg === 'restart needed')).toEqual([expect.objectContaining({ level: 'warn', changed: ['port', 'device'] })]);
    expect(w.reloads).toEqual([['greeting']]);
    expect(agent.status().greeting).toBe('hello');
    await agent.reload(config({ port: '7100', device: 'echo1', greeting: 'hello' })); // the same again: no live change
    expect(w.reloads).toEqual([['greeting']]);
    expect(w.ports).toHaveLength(2);
    await agent.stop();
  });
});
