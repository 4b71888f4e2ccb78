// DatagramPort over node:dgram for IPv4 UDP (rasadv multicast; Teredo on 3544 with `implementation: 'dgram'`).
// Endpoints use int32 addresses (src/wire/ipv4.ts) so engines never parse strings. Multicast options exist
// only after bind in Node, hence they are methods on the open port; Node's (and the kernel's) default multicast
// TTL is 1. Send failures arrive asynchronously from dgram and are reported to onError, never thrown.
// `implementation: 'native'` opens the addon's batched port instead (datagram-port-native.ts: recvmmsg /
// sendmmsg, DF bit clear), for the Teredo server's data path.

import { createSocket, type Socket } from 'node:dgram';
import type { Endpoint4 } from '../wire/endpoint.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';
import { openNativeDatagramPort } from './datagram-port-native.js';
import { ioErrorFrom, rethrowLater } from './io-error.js';
import { ReceiveBatch } from './batch.js';
import type { DatagramBatch, DatagramPort } from './ports.js';

export interface DatagramPortOptions {
  /** Local IPv4 address as int32 (or uint32); default 0 (0.0.0.0, every address). */
  readonly address?: number;
  /** Local port; default 0 (an ephemeral port, see DatagramPort.local). */
  readonly port?: number;
  /** SO_REUSEADDR, for several listeners on one multicast port. */
  readonly reuseAddr?: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes; default (or 0) the kernel's (net.core.[rw]mem_default). */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
  /** 'dgram' (default): node:dgram; 'native': the addon's batched port (datagram-port-native.ts). */
  readonly implementation?: DatagramImplementation;
}

export type DatagramImplementation = 'dgram' | 'native';

export async function openDatagramPort(options: DatagramPortOptions = {}): Promise<DatagramPort> {
  if (options.implementation === 'native') return openNativeDatagramPort(options);
  const socket = createSocket({
    type: 'udp4',
    reuseAddr: options.reuseAddr ?? false,
    ...(options.receiveBufferSize ? { recvBufferSize: options.receiveBufferSize } : {}),
    ...(options.sendBufferSize ? { sendBufferSize: options.sendBufferSize } : {}),
  });
  const address = formatIpv4(options.address ?? 0);
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      socket.close();
      reject(ioErrorFrom('IO_UDP_BIND', `cannot bind UDP ${address}:${port}`, e));
    };
    socket.once('error', onError);
    socket.bind({ address, port }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return new NodeDatagramPort(socket);
}

class NodeDatagramPort implements DatagramPort {
  readonly local: Endpoint4;
  #batchHandler: (batch: DatagramBatch) => void = () => {};
  /** node:dgram delivers one datagram per 'message' event: a batch of one, refilled each time. */
  readonly #batch = new ReceiveBatch(1);
  #errorHandler: (error: Error) => void = rethrowLater;
  #closing: Promise<void> | undefined;
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
    const bound = socket.address();
    this.local = { addr: parseIpv4(bound.address), port: bound.port };
    socket.on('message', (msg, rinfo) => {
      this.#batch.reset(msg);
      this.#batch.push(0, msg.length, parseIpv4(rinfo.address), rinfo.port);
      try {
        this.#batchHandler(this.#batch);
      } catch (e) {
        this.#errorHandler(ioErrorFrom('IO_HANDLER', `batch handler on port ${this.local.port} threw`, e));
      }
      this.#batch.release();
    });
    socket.on('error', (e) => this.#errorHandler(ioErrorFrom('IO_UDP', `UDP port ${this.local.port}`, e)));
  }

  onBatch(handler: (batch: DatagramBatch) => void): void {
    this.#batchHandler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  send(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    const report = (e: unknown): void => this.#errorHandler(ioErrorFrom('IO_UDP_SEND', `send to ${formatIpv4(addr)}:${port}`, e));
    if (this.#closing) {
      report(new Error('port is closed'));
      return;
    }
    try {
      // dgram reads the buffer after an asynchronous address lookup, so the lent bytes are copied first.
      this.#socket.send(Uint8Array.prototype.slice.call(data, offset, offset + length), port, formatIpv4(addr), (e) => {
        if (e) report(e);
      });
    } catch (e) {
      report(e); // argument errors (e.g. port out of range) are thrown synchronously by dgram
    }
  }

  joinGroup(group: number, interfaceAddress = 0): void {
    this.#config(`join ${formatIpv4(group)}`, () =>
      interfaceAddress === 0
        ? this.#socket.addMembership(formatIpv4(group))
        : this.#socket.addMembership(formatIpv4(group), formatIpv4(interfaceAddress)));
  }

  leaveGroup(group: number, interfaceAddress = 0): void {
    this.#config(`leave ${formatIpv4(group)}`, () =>
      interfaceAddress === 0
        ? this.#socket.dropMembership(formatIpv4(group))
        : this.#socket.dropMembership(formatIpv4(group), formatIpv4(interfaceAddress)));
  }

  setMulticastTtl(ttl: number): void {
    this.#config(`multicast TTL ${ttl}`, () => this.#socket.setMulticastTTL(ttl));
  }

  setMulticastInterface(interfaceAddress: number): void {
    this.#config(`multicast interface ${formatIpv4(interfaceAddress)}`, () =>
      this.#socket.setMulticastInterface(formatIpv4(interfaceAddress)));
  }

  setMulticastLoopback(on: boolean): void {
    this.#config(`multicast loopback ${on}`, () => this.#socket.setMulticastLoopback(on));
  }

  setTtl(ttl: number): void {
    this.#config(`TTL ${ttl}`, () => this.#socket.setTTL(ttl));
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => this.#socket.close(() => resolve()));
    return this.#closing;
  }

  #config(what: string, op: () => unknown): void {
    try {
      op();
    } catch (e) {
      throw ioErrorFrom('IO_UDP_CONFIG', `UDP port ${this.local.port}: ${what}`, e);
    }
  }
}
