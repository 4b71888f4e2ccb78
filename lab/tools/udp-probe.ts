#!/usr/bin/env node
// udp-probe: a tiny STUN-like tool the lab's self-tests run inside nodes to see what a NAT does to UDP
// (RFC 4787 vocabulary: mapping = which public port a flow gets, filtering = who may send back in).
// Output is JSON lines on stdout so a test can follow along while it runs.
//
//   reflect --bind A:P [--bind B:Q ...]    answer every datagram with {"seen":"<source ip:port>"}; prints
//                                          {"ready":true} once bound; runs until killed
//   map --port P --to A:P [--to ...] [--listen-ms N]
//                                          from local port P ask each reflector what it saw, print
//                                          {"mapped":{"A:P":"ip:port",...}}, then report every other datagram
//                                          arriving within N ms as {"from":"ip:port","text":"..."}; {"done":true}
//   send --to A:P [--port P] [--text T] [--count N] [--gap-ms G] [--ttl T] [--iface ADDR]
//                                          send N datagrams G ms apart (default 50; unicast, or multicast with
//                                          TTL and egress address)
//   listen --port P [--group G --iface ADDR] [--ms N]
//                                          print each datagram as {"from":...,"text":...} for N ms

import { createSocket, type Socket } from 'node:dgram';
import { parseArgs } from 'node:util';

const print = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function endpoint(s: string): { address: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i < 0 || !Number.isInteger(port)) throw new Error(`not an ip:port: ${s}`);
  return { address: s.slice(0, i), port };
}

function bind(port: number, address?: string): Promise<Socket> {
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, ...(address ? { address } : {}) }, () => resolve(sock));
  });
}

async function reflect(binds: string[]): Promise<void> {
  for (const b of binds) {
    const { address, port } = endpoint(b);
    const sock = await bind(port, address);
    sock.on('message', (_msg, r) => sock.send(JSON.stringify({ seen: `${r.address}:${r.port}` }), r.port, r.address));
  }
  print({ ready: true });
}

async function map(port: number, targets: string[], listenMs: number): Promise<void> {
  const sock = await bind(port);
  const mapped: Record<string, string> = {};
  const waiting = new Map<string, (seen: string) => void>();
  sock.on('message', (msg, r) => {
    const from = `${r.address}:${r.port}`;
    const resolve = waiting.get(from);
    if (resolve) {
      resolve((JSON.parse(msg.toString()) as { seen: string }).seen);
      return;
    }
    if (!(from in mapped)) print({ from, text: msg.toString() });
  });
  // One target at a time: a NAT sees the flows in this order.
  for (const t of targets) {
    const { address, port: p } = endpoint(t);
    const seen = await new Promise<string | undefined>((resolve) => {
      waiting.set(t, resolve);
      void (async () => {
        for (let i = 0; i < 10 && waiting.has(t); i++) {
          sock.send('probe', p, address);
          await sleep(200);
        }
        resolve(undefined);
      })();
    });
    waiting.delete(t);
    mapped[t] = seen ?? 'no answer';
  }
  print({ mapped });
  await sleep(listenMs);
  print({ done: true });
  sock.close();
}

async function send(o: { to: string; port: number; text: string; count: number; gapMs: number; ttl?: number; iface?: string }): Promise<void> {
  const sock = await bind(o.port, o.iface);
  if (o.ttl !== undefined) sock.setMulticastTTL(o.ttl);
  if (o.iface) sock.setMulticastInterface(o.iface);
  const { address, port } = endpoint(o.to);
  for (let i = 0; i < o.count; i++) {
    await new Promise<void>((r, j) => sock.send(o.text, port, address, (e) => (e ? j(e) : r())));
    await sleep(o.gapMs);
  }
  sock.close();
}

async function listen(port: number, ms: number, group?: string, iface?: string): Promise<void> {
  const sock = await bind(port);
  if (group) sock.addMembership(group, iface);
  sock.on('message', (msg, r) => print({ from: `${r.address}:${r.port}`, text: msg.toString() }));
  print({ ready: true });
  await sleep(ms);
  sock.close();
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    bind: { type: 'string', multiple: true },
    to: { type: 'string', multiple: true },
    port: { type: 'string' },
    'listen-ms': { type: 'string' },
    ms: { type: 'string' },
    text: { type: 'string' },
    count: { type: 'string' },
    'gap-ms': { type: 'string' },
    ttl: { type: 'string' },
    iface: { type: 'string' },
    group: { type: 'string' },
  },
});
const num = (s: string | undefined, dflt: number): number => (s === undefined ? dflt : Number(s));

switch (positionals[0]) {
  case 'reflect':
    await reflect(values.bind ?? []);
    break;
  case 'map':
    await map(num(values.port, 0), values.to ?? [], num(values['listen-ms'], 1000));
    break;
  case 'send':
    await send({
      to: values.to?.[0] ?? '',
      port: num(values.port, 0),
      text: values.text ?? 'hello',
      count: num(values.count, 3),
      gapMs: num(values['gap-ms'], 50),
      ...(values.ttl ? { ttl: Number(values.ttl) } : {}),
      ...(values.iface ? { iface: values.iface } : {}),
    });
    break;
  case 'listen':
    await listen(num(values.port, 0), num(values.ms, 3000), values.group, values.iface);
    break;
  default:
    process.stderr.write('usage: udp-probe reflect|map|send|listen ... (see the header of lab/tools/udp-probe.ts)\n');
    process.exitCode = 2;
}
