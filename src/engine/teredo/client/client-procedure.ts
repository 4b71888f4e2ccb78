// The client's exchanges with its Teredo server (RFC 4380 §5.2.1 qualification, §5.2.5 maintenance), with failover
// between servers, on one TimerTable: which Router Solicitation goes out when, what each Router Advertisement means.
// Apart from client.ts (it routes datagrams, owns the address and the data path): this file decides when the client
// has a mapping (and which), and tells its owner. Fast mode's RSs and why: client-qualification.ts. Strict mode keeps
// the RFC's sequence and timing (cone phase, non-cone, then the secondary). N x T without an answer in a phase (or to
// the maintenance RS): the server counts as lost, on to the next. A gateway's mapping is opened first (client-gateway.ts).

import { TimerTable } from '../../timer-table.js';
import type { Millis, Random } from '../../types.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import type { TeredoPacketView } from '../../../wire/teredo-view.js';
import { RS_CONE, RS_MAP_PRIMARY, RS_MAP_SECONDARY, RS_PREFERRED, RS_PRIMARY, RsProbes, checkRa, fromProbePort, rsDestination } from './client-ra.js';
import type { RsKind, ServerPair } from './client-ra.js';
import { Qualification, mappingTestWaitMs, type Mapped } from './client-qualification.js';
import { ServerChoice } from './client-servers.js';
import { EarlyRefresh } from './client-early-refresh.js';
import { GatewayOpening } from './client-gateway.js';
import { DROP, jitteredInterval } from './client-types.js';
import type { ClientConfig, ClientSink, ClientSnapshot, ClientState, NatType, OfflineCode } from './client-types.js';

type ProcedureTimer = 'probe' | 'cone-window' | 'refresh' | 'backoff' | 'preferred' | 'gateway';

/** What the procedure tells the client it runs for (client.ts). */
export interface ProcedureOwner {
  /** The mapping the address embeds: from a qualification (`qualified`) or a maintenance RA. */
  useMapping(mapped: Mapped, qualified: boolean, sink: ClientSink): void;
  /** The address is gone (offline, or on to another server). */
  dropAddress(sink: ClientSink): void;
  /** The address embeds this mapping already. */
  hasMapping(mapped: Mapped): boolean;
}

/** The snapshot fields the procedure knows (client.ts adds the address and the data path's). */
export type ProcedureSnapshot = Omit<ClientSnapshot, 'address' | 'mappedAddr' | 'mappedPort' | 'mappedByGateway'>;

export class ServerProcedure {
  #cfg: ClientConfig;
  readonly servers: ServerChoice;
  readonly #owner: ProcedureOwner;
  readonly #random: Random;
  readonly #timers = new TimerTable<ProcedureTimer>();
  readonly #probes = new RsProbes();
  /** What the current qualification found so far: mappings, cone RA, NAT type, refused RAs. */
  readonly q = new Qualification();
  #state: ClientState = 'offline';
  #running = false;
  /** RSs sent in the current phase (or for the current refresh). */
  #attempts = 0;
  #coneGivenUp = false; // strict mode: the cone phase is over, the primary gets non-cone RSs
  #qualifyStartedAt: Millis = 0;
  #lastServerRx: Millis | undefined;
  /** The "last heard" the armed refresh check was planned from. */
  #refreshBase: Millis = 0;
  readonly #early = new EarlyRefresh();
  /** RFC 6081 §5.3: the gateway's mapping opened toward the server before qualification (client-gateway.ts). */
  readonly gateway = new GatewayOpening();
  #rttMs: number | undefined;
  #qualificationMs: number | undefined;
  #errorCode: OfflineCode | undefined;
  #error: string | undefined;
  readonly #counters = { rsSent: 0, raAccepted: 0, qualifications: 0, offline: 0 };

  constructor(cfg: ClientConfig, owner: ProcedureOwner, random: Random) {
    this.#cfg = cfg;
    this.servers = new ServerChoice(cfg);
    this.#owner = owner;
    this.#random = random;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The server in use. */
  get server(): ServerPair {
    return this.servers.current;
  }

  /** Begins qualification (idempotent while running). */
  start(now: Millis, sink: ClientSink): void {
    if (this.#running) return;
    this.#running = true;
    this.#beginQualification(now, sink);
  }

  /** Removes the address and stops every timer; the state becomes offline. */
  stop(sink: ClientSink): void {
    this.#running = false;
    this.#timers.clear();
    this.#probes.retireAll();
    this.#owner.dropAddress(sink);
    this.#setState('offline', sink);
  }

  /** New configuration; true when the server addresses changed (then back to the first, not restarted here). */
  reconfigure(cfg: ClientConfig): boolean {
    this.#cfg = cfg;
    return this.servers.replace(cfg);
  }

  get running(): boolean {
    return this.#running;
  }

  /** A datagram from the server in use (§5.2.3: the "last interaction" with it). */
  heard(now: Millis): void {
    this.#lastServerRx = now;
  }

  handleTimeout(now: Millis, sink: ClientSink): void {
    for (let t = this.#timers.popExpired(now); t !== undefined; t = this.#timers.popExpired(now)) {
      switch (t) {
        case 'probe':
          this.#probeTimedOut(now, sink);
          break;
        case 'cone-window':
          if (this.#state === 'probe-primary') this.#enterSecondary(now, sink);
          break;
        case 'refresh':
          this.#refreshDue(now, sink);
          break;
        case 'backoff':
          this.servers.restart();
          this.#beginQualification(now, sink);
          break;
        case 'preferred':
          this.#askPreferred(now, sink);
          break;
        case 'gateway':
          this.gatewayDone(false, now, sink);
          break;
      }
    }
  }

  nextTimeout(): Millis | undefined {
    return this.#timers.nextTimeout();
  }

  snapshot(now: Millis): ProcedureSnapshot {
    const backoff = this.#timers.deadline('backoff');
    const notQualified = this.#state !== 'qualified';
    return {
      state: this.#state,
      nat: this.q.nat,
      mapping: this.q.mapping(this.#cfg.localPort, this.#cfg.probeLocalPort, this.gateway.arrived),
      primary: this.server.primary,
      secondary: this.server.secondary,
      serverIndex: this.servers.index,
      servers: this.servers.list(),
      refreshIntervalMs: this.#cfg.refreshIntervalMs,
      qualificationMs: this.#qualificationMs,
      rttMs: this.#rttMs,
      serverHeardAgoMs: this.#lastServerRx === undefined ? undefined : now - this.#lastServerRx,
      errorCode: notQualified ? this.#errorCode : undefined,
      error: notQualified ? this.#error : undefined,
      retryInMs: backoff === undefined ? undefined : Math.max(0, backoff - now),
      counters: { ...this.#counters, serverSwitches: this.servers.switches, gatewayOpened: this.gateway.opened, gatewayFailed: this.gateway.failed },
    };
  }

  // ---- qualification (§5.2.1) ----

  #beginQualification(now: Millis, sink: ClientSink): void {
    this.#timers.clear();
    this.#probes.retireAll();
    this.q.reset();
    this.#attempts = 0;
    this.#coneGivenUp = false;
    this.#qualifyStartedAt = now;
    this.#setState('probe-primary', sink);
    this.gateway.begin(this.#cfg.portMapping);
    this.#sendPrimaryProbes(now, sink);
  }

  #sendPrimaryProbes(now: Millis, sink: ClientSink): void {
    // RFC 6081 §5.3 (client-gateway.ts): the probe port's RS alone until the gateway's mapping is opened (or not).
    if (this.gateway.phase === 'probe' && this.#attempts > 0) this.gateway.finish(false);
    const opening = this.gateway.phase === 'probe';
    this.#attempts++;
    const strict = this.#cfg.qualification === 'strict';
    const q = this.q;
    if (!opening && !this.#coneGivenUp && !q.coneSeen) this.#sendRs(RS_CONE, now, sink);
    if (!opening && (!strict || this.#coneGivenUp || q.coneSeen)) this.#sendRs(RS_PRIMARY, now, sink);
    if ((!strict || opening) && q.probeMapped[0] === undefined) this.#sendRs(RS_MAP_PRIMARY, now, sink);
    // After an opening: the NAT's own mapping test too (Qualification.mapping; the cone RA gets in by the rule anyway).
    if (this.gateway.arrived && q.probeMapped[1] === undefined) this.#sendRs(RS_MAP_SECONDARY, now, sink);
    this.#timers.set('probe', now + this.#cfg.probeTimeoutMs);
  }

  #sendRs(kind: RsKind, now: Millis, sink: ClientSink): void {
    const payload = this.#probes.prepare(kind, this.#random, now);
    const to = rsDestination(kind, this.server, this.servers.first);
    this.#counters.rsSent++;
    if (fromProbePort(kind)) sink.sendProbe(payload, 0, payload.length, to, TEREDO_PORT);
    else sink.sendUdp(payload, 0, payload.length, to, TEREDO_PORT);
  }

  #probeTimedOut(now: Millis, sink: ClientSink): void {
    const more = this.#attempts < this.#cfg.probeAttempts;
    switch (this.#state) {
      case 'probe-primary':
        if (more) return this.#sendPrimaryProbes(now, sink);
        if (this.#cfg.qualification === 'strict' && !this.#coneGivenUp) {
          // RFC 4380 §5.2.1: no answer with the cone bit set: not a cone NAT, try again without it.
          this.#probes.retire(RS_CONE);
          this.#coneGivenUp = true;
          this.#attempts = 0;
          return this.#sendPrimaryProbes(now, sink);
        }
        return this.#serverFailed(now, sink, ...this.q.noAnswerReason(this.server));
      case 'probe-secondary':
        if (more) return this.#sendSecondaryProbes(now, sink);
        // The primary answered, so Teredo works; only the symmetric test failed. Strict RFC 4380 gives up here.
        if (this.#cfg.qualification === 'strict') return this.#goOffline(now, sink, 'secondary-no-answer', 'no answer from the secondary server address (strict RFC 4380 §5.2.1 needs it)');
        return this.#qualified('unknown', this.q.mainMapped!, now, sink);
      case 'qualified':
        if (more) return this.#sendRefresh(now, sink);
        return this.#serverFailed(now, sink, 'server-lost', 'the server stopped answering the maintenance RSs (RFC 4380 §5.2.5)');
    } // (offline: no probe timer runs)
  }

  /** An RA (checked Teredo encapsulation in `view`) from addr:port; `probeSocket`: it came to the probe port. */
  routerAdvert(view: TeredoPacketView, addr: number, port: number, probeSocket: boolean, now: Millis, sink: ClientSink): void {
    const verdict = checkRa(this.server, this.servers.first, this.#probes, view, addr, port, probeSocket);
    if (verdict >= 0) {
      if (this.#state !== 'qualified' && verdict !== DROP['ra-source-not-server']) this.q.refused(verdict);
      return sink.drop(verdict);
    }
    const kind = this.#probes.match(view.data, view.nonceOffset) as RsKind;
    this.#probes.retire(kind);
    this.#counters.raAccepted++;
    const mapped: Mapped = { addr: view.originAddr, port: view.originPort };
    if (kind === RS_PREFERRED) return this.#preferredAnswered(now, sink);
    if (kind !== RS_MAP_PRIMARY && kind !== RS_MAP_SECONDARY) this.#rttMs = Math.round((now - this.#probes.sentAt(kind)) * 10) / 10;
    const q = this.q;
    if (this.#state === 'qualified') {
      if (kind === RS_PRIMARY) return this.#refreshAnswered(mapped, now, sink);
      // The probe port's RSs sent with the cone RSs, answered after a cone qualification: only for the report.
      if (kind === RS_MAP_PRIMARY || kind === RS_MAP_SECONDARY) q.probeMapped[kind === RS_MAP_PRIMARY ? 0 : 1] = mapped;
      return;
    }
    switch (kind) {
      case RS_CONE:
        q.coneSeen = true;
        if (q.mainMapped !== undefined) return this.#qualified('cone', q.mainMapped, now, sink);
        // Strict mode sends the non-cone RS only now; fast mode's is on its way.
        if (this.#cfg.qualification === 'strict') this.#sendRs(RS_PRIMARY, now, sink);
        return;
      case RS_PRIMARY:
        q.mainMapped = mapped;
        if (q.coneSeen) return this.#qualified('cone', mapped, now, sink);
        this.#timers.delete('probe');
        if (this.#cfg.qualification === 'strict') return this.#enterSecondary(now, sink);
        return this.#timers.set('cone-window', now + Math.min(this.#cfg.probeTimeoutMs, Math.max(this.#cfg.coneWindowMinMs, 2 * this.#rttMs!)));
      default: {
        q.probeMapped[kind === RS_MAP_PRIMARY ? 0 : 1] = mapped;
        const due = this.#state === 'probe-primary' && q.mainMapped === undefined ? this.#timers.deadline('probe') : undefined; // (the Teredo port's RSs unanswered:
        if (due !== undefined) this.#timers.set('probe', Math.min(due, now + mappingTestWaitMs(this.#cfg, now - this.#probes.sentAt(kind)))); // resent after a few round trips)
        if (kind === RS_MAP_PRIMARY && this.gateway.phase === 'probe') {
          this.#timers.delete('probe');
          return this.#timers.set('gateway', this.gateway.open(this.server.primary, mapped, this.#cfg, now - this.#probes.sentAt(kind), now, sink));
        }
        const nat = this.#state === 'probe-secondary' ? q.mappingVerdict() : undefined;
        if (nat !== undefined) this.#qualified(nat, q.mainMapped!, now, sink);
      }
    }
  }

  /** RFC 6081 §5.3 step 3 (client-gateway.ts), on a bubble from the server (`arrived`; false if none was awaited) or at the window's end. */
  gatewayDone(arrived: boolean, now: Millis, sink: ClientSink): boolean {
    if (!this.gateway.finish(arrived)) return false;
    this.#timers.delete('gateway');
    this.#attempts = 0;
    this.#sendPrimaryProbes(now, sink);
    return true;
  }

  #enterSecondary(now: Millis, sink: ClientSink): void {
    // Retire the cone RS first: the RS to the secondary below opens an address-restricted NAT to the address
    // the cone RA comes from, and a cone RA let in that way proves nothing.
    this.#probes.retire(RS_CONE);
    this.#probes.retire(RS_PRIMARY);
    this.#attempts = 0;
    this.#setState('probe-secondary', sink);
    this.#sendSecondaryProbes(now, sink);
  }

  /** The mapping test: whichever of the probe port's two RSs has no answer yet. */
  #sendSecondaryProbes(now: Millis, sink: ClientSink): void {
    this.#attempts++;
    if (this.q.probeMapped[0] === undefined) this.#sendRs(RS_MAP_PRIMARY, now, sink);
    this.#sendRs(RS_MAP_SECONDARY, now, sink);
    this.#timers.set('probe', now + mappingTestWaitMs(this.#cfg, this.#rttMs));
  }

  #qualified(nat: NatType, mapped: Mapped, now: Millis, sink: ClientSink): void {
    this.#timers.clear();
    // A cone qualification can beat the probe port's RAs: still welcome (for the mapping report), not refused.
    const pending = ([RS_MAP_PRIMARY, RS_MAP_SECONDARY] as const).filter((k) => this.#probes.isLive(k));
    this.#probes.retireAll();
    for (const k of pending) this.#probes.keep(k);
    this.q.nat = nat;
    if (nat === 'symmetric' && this.#cfg.refuseSymmetric) {
      return this.#goOffline(now, sink, 'symmetric-refused', 'behind a symmetric NAT, and refuseSymmetric is set (strict RFC 4380 §5.2.1)');
    }
    this.servers.qualified();
    this.#errorCode = this.#error = undefined;
    this.#qualificationMs = Math.round(now - this.#qualifyStartedAt);
    this.#counters.qualifications++;
    this.#owner.useMapping(mapped, true, sink);
    this.#setState('qualified', sink);
    this.#scheduleRefresh(now);
    if (this.servers.index > 0) this.#timers.set('preferred', now + this.#cfg.preferredRetryMs);
  }

  /** The current server did not answer: the next one at once, or offline with a backoff after a full round. */
  #serverFailed(now: Millis, sink: ClientSink, code: OfflineCode, error: string): void {
    if (!this.servers.next()) return this.#goOffline(now, sink, code, error);
    this.#errorCode = code;
    this.#error = error;
    this.#owner.dropAddress(sink);
    this.#beginQualification(now, sink);
  }

  #goOffline(now: Millis, sink: ClientSink, code: OfflineCode, error: string): void {
    this.#timers.clear();
    this.#probes.retireAll();
    this.#errorCode = code;
    this.#error = error;
    this.#counters.offline++;
    this.#owner.dropAddress(sink);
    this.#setState('offline', sink);
    if (this.#running) this.#timers.set('backoff', now + this.servers.backoffMs(this.#cfg));
  }

  /** While on a fallback: is the first server back? (its answer: qualification with it again) */
  #askPreferred(now: Millis, sink: ClientSink): void {
    if (this.#state !== 'qualified' || this.servers.index === 0) return;
    this.#sendRs(RS_PREFERRED, now, sink);
    this.#timers.set('preferred', now + this.#cfg.preferredRetryMs);
  }

  #preferredAnswered(now: Millis, sink: ClientSink): void {
    if (this.servers.backToFirst()) this.#beginQualification(now, sink);
  }

  // ---- maintenance (§5.2.5) ----

  /** Next check at a uniform 75-100 % of the refresh interval after the server was last heard. */
  #scheduleRefresh(now: Millis): void {
    const base = (this.#refreshBase = this.#lastServerRx ?? now);
    this.#timers.set('refresh', Math.max(now, base + jitteredInterval(this.#cfg.refreshIntervalMs, this.#random.int(0x10000) / 0xffff)));
  }

  /** Unanswered traffic: the maintenance RS now (client-early-refresh.ts), unless one is out or the server spoke within quietMs. */
  suspectMapping(now: Millis, quietMs: number, sink: ClientSink): void {
    if (this.#state !== 'qualified' || this.#timers.deadline('probe') !== undefined) return;
    if (this.#lastServerRx !== undefined && now - this.#lastServerRx < quietMs) return;
    if (!this.#early.take(now)) return;
    this.#attempts = 0;
    this.#sendRefresh(now, sink);
  }

  /** A datagram from a peer: traffic is answered again. */
  peerHeard(): void {
    this.#early.reset();
  }

  #refreshDue(now: Millis, sink: ClientSink): void {
    if (this.#state !== 'qualified') return;
    // Heard from the server since this check was planned (an indirect bubble, an RA): the NAT mapping is fresh (§5.2.5).
    if (this.#lastServerRx !== undefined && this.#lastServerRx > this.#refreshBase) return this.#scheduleRefresh(now);
    this.#attempts = 0;
    this.#sendRefresh(now, sink);
  }

  #sendRefresh(now: Millis, sink: ClientSink): void {
    this.#attempts++;
    // Always the non-cone RS from the main socket: it keeps the mapping the address embeds alive. RFC 4380 §5.2.5
    // repeats the cone bit, which only re-tests the NAT type (RFC 5991: not to be relied on; Miredo omits it too).
    this.#sendRs(RS_PRIMARY, now, sink);
    this.#timers.set('probe', now + this.#cfg.probeTimeoutMs);
  }

  #refreshAnswered(mapped: Mapped, now: Millis, sink: ClientSink): void {
    this.#timers.delete('probe');
    this.#early.answered(this.#owner.hasMapping(mapped), this.#cfg.refreshIntervalMs);
    // §5.2.5: a different mapping (the NAT lost its state) invalidates the old address.
    this.#owner.useMapping(mapped, false, sink);
    this.#scheduleRefresh(now);
  }

  #setState(state: ClientState, sink: ClientSink): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    sink.stateChanged(state, previous);
  }
}
