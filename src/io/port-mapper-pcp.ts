// PortMapper (port-mapper.ts) by PCP (RFC 6887), our own: no maintained npm client speaks it. One mapper is one
// mapping: a MAP request for UDP (§11) to the IPv4 default gateway's port 5351 (§8.1: the PCP server is the
// default router unless configured otherwise), with a random 12-byte mapping nonce kept for the mapper's life,
// so a renewal (§11.2.1: the same request again, suggesting the external port and address granted before) and
// the deletion (§15: lifetime 0) name the same mapping. The first request suggests external port = internal
// port and no external address (::ffff:0.0.0.0).
//
// Each exchange uses a fresh UDP socket connected to the server: only its answers come in, an ICMP port
// unreachable (no server) ends the wait at once as ECONNREFUSED, and the socket's local address is the client
// address the request must carry (§7.1; another one gets ADDRESS_MISMATCH). Requests are retransmitted per
// §8.1.1 (IRT 3 s, doubling up to MRT 1024 s, each ±10 %, no count or duration limit) until an answer or the
// request's signal. A datagram that does not decode or does not match the request (opcode, nonce, protocol,
// internal port: §11.3) is ignored: the wait goes on.
//
// Version negotiation (§9): miniupnpd and other NAT-PMP servers share port 5351. A NAT-PMP-only server answers
// version 0 with UNSUPP_VERSION: "PCP not supported"; the caller asks by NAT-PMP then (port-mapping.ts).
//
// A server that lost its state (restarted, rebooted) lost our mapping too. §8.5: the Epoch Time of each answer
// is checked against the previous one (wire/pcp-epoch.ts); §14.1.3: such a server sends unsolicited ANNOUNCE
// responses to 224.0.0.1 port 5350 (miniupnpd 2.3.1: one, from its LAN address port 5351, epoch 0, at start),
// which watchRestart listens for and checks the same way. A failed check calls the caller's watcher, which maps
// again (the same nonce and suggested port: §11.2.1): at once after an answer, after a random delay of up to
// 5 s after an ANNOUNCE (§14.1.3, so the hosts of a LAN do not all ask at the same moment), and at most once per
// 5 s (an ANNOUNCE is easily forged on the LAN: only ones from the server's address and port count, and they
// make us send nothing but our own MAP to the server). Unicast ANNOUNCEs reach us on port 5350 only: each
// exchange's socket is closed after its answer.

import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { PortMapper, PortMappingLease, PortMapRequest } from './port-mapper.js';
import { defaultGateway4 } from './local-address.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';
import { WireError } from '../wire/errors.js';
import { pcpEpochValid } from '../wire/pcp-epoch.js';
import {
  PCP_ANNOUNCE_GROUP,
  PCP_CLIENT_PORT,
  PCP_NONCE_LENGTH,
  PCP_OPCODE_ANNOUNCE,
  PCP_OPCODE_MAP,
  PCP_PROTOCOL_UDP,
  PCP_SERVER_PORT,
  PCP_SUCCESS,
  PCP_VERSION,
  decodePcpResponse,
  encodePcpMapRequest,
  pcpResultName,
  type PcpMapResult,
  type PcpResponse,
} from '../wire/pcp.js';

/** §8.1.1: initial and maximum retransmission time, ms. */
export const PCP_IRT_MS = 3000;
export const PCP_MRT_MS = 1_024_000;
/** §14.1.3: the longest random delay before mapping again after an ANNOUNCE that tells of lost state, ms. */
export const PCP_ANNOUNCE_DELAY_MAX_MS = 5000;
/** Mapping again after lost state at most once per this, ms (forged ANNOUNCEs cost one MAP per 5 s at most). */
export const PCP_RESTART_HOLDOFF_MS = 5000;

/**
 * §8.1.1: the wait before the next transmission, ms. `previousMs` 0 for the first; `rand` in [0, 1) (drawn
 * uniformly; mapped to the RFC's RAND in [-0.1, +0.1]).
 */
export function pcpRetransmissionMs(previousMs: number, rand: number, irtMs = PCP_IRT_MS): number {
  const base = previousMs === 0 ? irtMs : Math.min(2 * previousMs, PCP_MRT_MS);
  return (1 + (rand * 0.2 - 0.1)) * base;
}

export interface PcpMapperOptions {
  /** Dotted IPv4 of the PCP server; default: the IPv4 default gateway. */
  readonly server?: string;
  /** Default PCP_SERVER_PORT. */
  readonly port?: number;
  /** §8.1.1 IRT, ms (tests shorten it). */
  readonly irtMs?: number;
  /** The port watchRestart listens on for ANNOUNCEs; default PCP_CLIENT_PORT (tests use another). */
  readonly announcePort?: number;
  /** Monotonic clock for §8.5's client time, ms; default performance.now (tests move it). */
  readonly now?: () => number;
  /** Uniform in [0, 1) for §14.1.3's delay; default Math.random. */
  readonly random?: () => number;
}

/** One server's epoch as the client saw it last (§8.5: prev_server_time, prev_client_time). */
export class PcpEpoch {
  #serverSec = 0;
  #clientMs = 0;
  #seen = false;

  /**
   * Takes a response's Epoch Time (seconds) that came at `nowMs` (the caller's monotonic clock) and records it.
   * True when it passes §8.5's test against the previous one (the first one always does); false: the server
   * lost its state.
   */
  observe(serverSec: number, nowMs: number): boolean {
    const valid = !this.#seen || pcpEpochValid(this.#serverSec, serverSec, Math.trunc(Math.max(0, nowMs - this.#clientMs) / 1000));
    this.#serverSec = serverSec;
    this.#clientMs = nowMs;
    this.#seen = true;
    return valid;
  }
}

/** A PCP response, or undefined for a datagram that does not decode as one. */
function decodeOrIgnore(msg: Uint8Array): PcpResponse | undefined {
  try {
    return decodePcpResponse(msg);
  } catch (err) {
    if (err instanceof WireError) return undefined;
    throw err;
  }
}

/** A matching SUCCESS answer: the granted lifetime (seconds) and MAP fields. */
type Answer = { readonly lifetimeSec: number; readonly map: PcpMapResult };

export class PcpMapper implements PortMapper {
  readonly protocol = 'pcp';
  readonly #o: PcpMapperOptions;
  /** §11.1: one nonce per mapping, kept for renewal and deletion. */
  readonly #nonce = new Uint8Array(randomBytes(PCP_NONCE_LENGTH));
  /** What the server granted last (renewals suggest it, §11.2.1). */
  #granted: PcpMapResult | undefined;
  #server: string | undefined;
  /** Our address toward the server (the request's client address); the ANNOUNCE group is joined on it. */
  #clientAddress = '';
  /** §8.5: the server's epoch as the last answer or ANNOUNCE gave it. */
  readonly #epoch = new PcpEpoch();
  #onRestart: (() => void) | undefined;
  /** The client port's socket (watchRestart), while open. */
  #announceSocket: Socket | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #lastRestartMs = -Infinity;
  #closed = false;
  readonly #now: () => number;

  constructor(o: PcpMapperOptions = {}) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
  }

  async map(req: PortMapRequest): Promise<PortMappingLease> {
    if (this.#server === undefined) {
      this.#server = this.#o.server ?? (await defaultGateway4());
      if (this.#server === undefined) throw new Error('PCP: no IPv4 default gateway to ask');
    }
    const g = this.#granted;
    const { lifetimeSec, map, clientAddress } = await this.#exchange(req.internalPort, g?.externalPort ?? req.internalPort, g?.externalAddress ?? 0, req.lifetimeSec, req.signal);
    if (map.externalAddress === undefined) throw new Error('PCP: the server granted a mapping without an IPv4 external address');
    if (lifetimeSec === 0) throw new Error('PCP: the server granted a lifetime of 0');
    this.#granted = map;
    this.#clientAddress = clientAddress;
    return { protocol: 'pcp', externalAddress: formatIpv4(map.externalAddress), externalPort: map.externalPort, internalAddress: clientAddress, internalPort: map.internalPort, lifetimeSec };
  }

  /** §15: the same MAP with lifetime 0. */
  async unmap(l: PortMappingLease, signal: AbortSignal): Promise<void> {
    if (this.#server === undefined) return;
    await this.#exchange(l.internalPort, l.externalPort, parseIpv4(l.externalAddress), 0, signal);
    this.#granted = undefined;
  }

  /**
   * Calls `onRestart` when the server showed that it lost its state (§8.5's epoch test failed on an answer or on
   * an unsolicited ANNOUNCE, §14.1.3); the caller maps again. Call after the first map. Opens the client port
   * (PCP_CLIENT_PORT, address reuse: other PCP clients on the host hear the group too) and joins 224.0.0.1 on our
   * address toward the server; rejects when the port cannot be bound (answers are still checked then).
   */
  watchRestart(onRestart: () => void): Promise<void> {
    this.#onRestart = onRestart;
    const port = this.#o.announcePort ?? PCP_CLIENT_PORT;
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: 'udp4', reuseAddr: true });
      socket.once('error', (err) => {
        socket.close();
        if (this.#announceSocket === socket) this.#announceSocket = undefined;
        reject(new Error(`PCP: cannot listen for ANNOUNCE on port ${port}: ${err.message}`));
      });
      socket.on('message', (msg, from) => this.#announce(msg, from));
      socket.bind(port, () => {
        if (this.#closed) return void (socket.close(), resolve());
        this.#announceSocket = socket;
        try {
          socket.addMembership(PCP_ANNOUNCE_GROUP, this.#clientAddress);
        } catch {
          // Heard all the same on Linux: every multicast interface is in 224.0.0.1, and a socket hears the groups
          // the host is in (IP_MULTICAST_ALL, on by default).
        }
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    // Each exchange closes its own socket; the client port's is ours.
    this.#closed = true;
    this.#onRestart = undefined;
    clearTimeout(this.#restartTimer);
    this.#announceSocket?.close();
    this.#announceSocket = undefined;
  }

  /** §14.1.3: an unsolicited ANNOUNCE, taken only from the server's address and port. */
  #announce(msg: Uint8Array, from: RemoteInfo): void {
    if (from.address !== this.#server || from.port !== (this.#o.port ?? PCP_SERVER_PORT)) return;
    const r = decodeOrIgnore(msg);
    if (r?.kind !== 'pcp' || r.version !== PCP_VERSION || r.opcode !== PCP_OPCODE_ANNOUNCE || r.resultCode !== PCP_SUCCESS) return;
    this.#checkEpoch(r.epochSec, (this.#o.random ?? Math.random)() * PCP_ANNOUNCE_DELAY_MAX_MS);
  }

  /** §8.5: records the server's epoch; when it failed the test, calls the watcher after `delayMs` (rate-limited). */
  #checkEpoch(epochSec: number, delayMs: number): void {
    const now = this.#now();
    if (this.#epoch.observe(epochSec, now) || this.#onRestart === undefined || this.#restartTimer !== undefined) return;
    const waitMs = Math.max(delayMs, this.#lastRestartMs + PCP_RESTART_HOLDOFF_MS - now);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#lastRestartMs = this.#now();
      this.#onRestart?.();
    }, waitMs);
    this.#restartTimer.unref();
  }

  /** One request/answer, retransmitted until the answer or the signal. Resolves on SUCCESS; rejects with why not. */
  #exchange(internalPort: number, externalPort: number, externalAddress: number, lifetimeSec: number, signal: AbortSignal): Promise<Answer & { clientAddress: string }> {
    const server = this.#server!;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error(`PCP: ${(signal.reason as Error | undefined)?.message ?? 'aborted'}`));
      const socket = createSocket('udp4');
      let timer: NodeJS.Timeout | undefined;
      let clientAddress = '';
      let request: Uint8Array | undefined;
      let finished = false;
      const done = (err: Error | undefined, answer?: Answer): void => {
        // Once: a send error, the abort and an answer may all come after the end.
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.close();
        if (err !== undefined) reject(err);
        else resolve({ ...answer!, clientAddress });
      };
      const onAbort = (): void => done(new Error(`PCP: no answer from ${server} (${(signal.reason as Error | undefined)?.message ?? 'aborted'})`));
      signal.addEventListener('abort', onAbort, { once: true });
      const send = (previousMs: number): void => {
        socket.send(request!, (err) => void (err && done(new Error(`PCP: ${err.message}`))));
        const rt = pcpRetransmissionMs(previousMs, Math.random(), this.#o.irtMs);
        timer = setTimeout(() => send(rt), rt);
        timer.unref();
      };
      socket.on('message', (msg) => {
        const verdict = this.#judge(msg, internalPort);
        if (verdict === undefined) return;
        if (typeof verdict === 'string') done(new Error(`PCP: ${verdict}`));
        else done(undefined, verdict);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => done(new Error(err.code === 'ECONNREFUSED' ? `PCP: ${server} refused (port ${this.#o.port ?? PCP_SERVER_PORT} unreachable)` : `PCP: ${err.message}`)));
      socket.connect(this.#o.port ?? PCP_SERVER_PORT, server, () => {
        clientAddress = socket.address().address;
        request = encodePcpMapRequest({ nonce: this.#nonce, protocol: PCP_PROTOCOL_UDP, internalPort, suggestedExternalPort: externalPort, suggestedExternalAddress: externalAddress, clientAddress: parseIpv4(clientAddress), lifetimeSec });
        send(0);
      });
    });
  }

  /** The answer for our request, a reason it failed (string), or undefined for a datagram to ignore. */
  #judge(msg: Uint8Array, internalPort: number): Answer | string | undefined {
    const r = decodeOrIgnore(msg);
    if (r === undefined) return undefined;
    // §9: a NAT-PMP server (version 0) or one of another PCP version.
    if (r.kind === 'nat-pmp') return 'PCP not supported (the server speaks NAT-PMP only: RFC 6887 §9)';
    if (r.version !== PCP_VERSION) return `PCP not supported (the server speaks version ${r.version}, we ${PCP_VERSION})`;
    if (r.opcode !== PCP_OPCODE_MAP) return undefined;
    if (r.map === undefined) return r.resultCode === PCP_SUCCESS ? undefined : `${pcpResultName(r.resultCode)} (RFC 6887 §7.4)`;
    const m = r.map;
    if (m.protocol !== PCP_PROTOCOL_UDP || m.internalPort !== internalPort || !m.nonce.every((x, i) => x === this.#nonce[i])) return undefined;
    this.#checkEpoch(r.epochSec, 0);
    if (r.resultCode !== PCP_SUCCESS) return `${pcpResultName(r.resultCode)} (RFC 6887 §7.4)`;
    return { lifetimeSec: r.lifetimeSec, map: m };
  }
}
