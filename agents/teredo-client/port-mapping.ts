// The client's port mapping (`--port-mapping auto|pcp|nat-pmp|upnp|off`): asks the NAT in front to forward the
// Teredo UDP port to us (src/io/port-mapper.ts), renews it, and deletes it on stop and when turned off. With the
// outside port equal to the local one, a NAT that keeps source ports sends our Teredo traffic from the mapped
// port too, so the server's cone test (RFC 4380 §5.2.1) reaches us through it: a restricted NAT becomes a cone
// one for Teredo, and peers behind any NAT can reach us. Behind a NAT that draws a port for every flow anyway
// (symmetric), the engine opens the mapping toward its server before qualifying (RFC 6081 §5.3,
// src/engine/teredo/client/client-gateway.ts), given the lease through the engine's setPortMapping (agent.ts).
//
//   auto      PCP first, NAT-PMP after PCP failed other than by silence (RFC 6887 §9: PCP and NAT-PMP share the
//             server port 5351; a NAT-PMP-only server answers PCP with UNSUPP_VERSION, a silent one would not
//             answer NAT-PMP either), UPnP IGD only when neither mapped. One protocol at a time: a gateway that
//             speaks several (miniupnpd) grants a second one the same rule, which is then held (and must be
//             deleted) through both; the start waits for the first chain only, <= PORT_MAPPING_WAIT_MS (agent.ts)
//   pcp / nat-pmp / upnp   only that protocol
//   off       nothing asked (and a mapping made before a reload to off is deleted)
//
// Timing: each attempt gives up after ATTEMPT_TIMEOUT_MS; a NAT without either service is asked again every
// RETRY_NONE_MS. A lease is renewed halfway to its expiry (RFC 6886 §3.3), a failed renewal retried every
// RETRY_RENEW_MS while the lease lasts; a lost lease (expired, or the gateway refused) is reported through
// onChange, as is a new one, so the agent can qualify again (agent.ts). A PCP gateway that shows it lost its
// state (RFC 6887 §8.5 epoch, §14.1.3 ANNOUNCE: the mapper's watchRestart) has its mapping made again at once,
// counted as a re-creation (the lease stays the same one: no onChange unless the port changed).

import type { PortMapper, PortMapperFactory, PortMappingLease, PortMappingProtocol } from '../../src/io/port-mapper.js';

export type PortMappingMode = 'auto' | PortMappingProtocol | 'off';
export const PORT_MAPPING_MODES: readonly PortMappingMode[] = ['auto', 'pcp', 'nat-pmp', 'upnp', 'off'];

/**
 * The chains asked in turn until one maps; each asks its protocols one after the other, the next only after a
 * failure that was not a timeout.
 */
function chains(mode: Exclude<PortMappingMode, 'off'>): PortMappingProtocol[][] {
  return mode === 'auto' ? [['pcp', 'nat-pmp'], ['upnp']] : [[mode]];
}

/** How long one protocol's attempt (discovery and mapping) may take, ms. */
export const ATTEMPT_TIMEOUT_MS = 2000;
/** Without any mapping service: how long until the gateway is asked again, ms. */
export const RETRY_NONE_MS = 300_000;
/** After a failed renewal: how long until the next try, ms (while the lease lasts). */
export const RETRY_RENEW_MS = 30_000;
/** How long a delete on stop may take, ms. */
export const UNMAP_TIMEOUT_MS = 1000;

export interface PortMappingStatus {
  readonly mode: PortMappingMode;
  /** off (mode off), pending (first attempt running), mapped, none (no gateway mapped the port; see error). */
  readonly state: 'off' | 'pending' | 'mapped' | 'none';
  readonly protocol: PortMappingProtocol | null;
  readonly externalAddress: string | null;
  readonly externalPort: number | null;
  readonly internalPort: number;
  /** Seconds until the gateway forgets the mapping unless renewed. */
  readonly lifetimeLeftSec: number | null;
  readonly renewals: number;
  /** Mappings made again after the gateway lost them (PCP: RFC 6887 §8.5, §14.1.3). */
  readonly recreations: number;
  /** Why there is no mapping (or why the last renewal failed). */
  readonly error: string | null;
}

export interface PortMappingOptions {
  readonly mode: PortMappingMode;
  readonly internalPort: number;
  readonly lifetimeSec: number;
  readonly factory: PortMapperFactory;
  /** A mapping was made or lost (not called for a renewal of the same one). */
  readonly onChange: (lease: PortMappingLease | undefined) => void;
  readonly log: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
}

/** Aborts after ms (an own timer rather than AbortSignal.timeout: one timer source for the whole file). */
function timeoutSignal(ms: number): AbortSignal {
  const c = new AbortController();
  setTimeout(() => c.abort(new Error(`timed out after ${ms} ms`)), ms).unref();
  return c.signal;
}

export class PortMapping {
  #mode: PortMappingMode;
  readonly #o: PortMappingOptions;
  #lease: PortMappingLease | undefined;
  #mapper: PortMapper | undefined;
  #expiresAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending = false;
  #renewals = 0;
  #recreations = 0;
  #error: string | null = null;
  /** Bumped by stop and mode changes: answers of an older round are given back. */
  #round = 0;
  /** The attempt under way, if any (stop waits for it, so a late grant is deleted before we exit). */
  #inflight: Promise<void> | undefined;

  constructor(o: PortMappingOptions) {
    this.#o = o;
    this.#mode = o.mode;
  }

  get lease(): PortMappingLease | undefined {
    return this.#lease;
  }

  /** Starts the first attempt; the promise settles when it ended (onChange tells of a mapping as it comes). */
  /**
   * Settles when the first chain ended (auto: PCP and NAT-PMP, one round trip to the gateway or its ICMP refusal
   * on a LAN; UPnP's search comes after it), or with the attempt: what the start may wait for.
   */
  firstChainDone: Promise<void> = Promise.resolve();
  #firstChainEnded: () => void = () => undefined;

  start(): Promise<void> {
    return this.#mode === 'off' ? Promise.resolve() : this.#attemptTracked();
  }

  /** SIGHUP: another mode deletes the current mapping (if any) and, unless off, asks again. */
  async setMode(mode: PortMappingMode): Promise<void> {
    if (mode === this.#mode) return;
    this.#mode = mode;
    await this.#release();
    if (mode !== 'off') void this.#attemptTracked();
  }

  /** Deletes the mapping (bounded by UNMAP_TIMEOUT_MS, and an attempt under way by ATTEMPT_TIMEOUT_MS) and stops every timer. */
  async stop(): Promise<void> {
    await this.#release();
    await this.#inflight;
  }

  status(now = Date.now()): PortMappingStatus {
    const l = this.#lease;
    const state = this.#mode === 'off' ? 'off' : l !== undefined ? 'mapped' : this.#pending ? 'pending' : 'none';
    return {
      mode: this.#mode,
      state,
      protocol: l?.protocol ?? null,
      externalAddress: l?.externalAddress ?? null,
      externalPort: l?.externalPort ?? null,
      internalPort: this.#o.internalPort,
      lifetimeLeftSec: l === undefined ? null : Math.max(0, Math.round((this.#expiresAt - now) / 1000)),
      renewals: this.#renewals,
      recreations: this.#recreations,
      error: this.#error,
    };
  }

  async #release(): Promise<void> {
    this.#round++;
    clearTimeout(this.#timer);
    this.#pending = false;
    // A mapper is held only with its lease (#granted), so both are set or neither.
    const { lease, mapper } = { lease: this.#lease, mapper: this.#mapper };
    this.#lease = undefined;
    this.#mapper = undefined;
    if (lease === undefined || mapper === undefined) return;
    this.#o.onChange(undefined);
    try {
      await mapper.unmap(lease, timeoutSignal(UNMAP_TIMEOUT_MS));
      this.#o.log('info', { protocol: lease.protocol, external: `${lease.externalAddress}:${lease.externalPort}` }, 'port mapping deleted');
    } catch (err) {
      this.#o.log('warn', { protocol: lease.protocol, error: (err as Error).message }, 'port mapping not deleted (the gateway forgets it when its lifetime ends)');
    }
    await mapper.close().catch(() => undefined);
  }

  #attemptTracked(): Promise<void> {
    this.firstChainDone = new Promise((resolve) => (this.#firstChainEnded = resolve));
    const p = this.#attempt().finally(() => {
      if (this.#inflight === p) this.#inflight = undefined;
    });
    this.#inflight = p;
    return p;
  }

  /** One round of asking: the mode's chains in turn until one maps. */
  async #attempt(): Promise<void> {
    const round = this.#round;
    this.#pending = true;
    const errors: string[] = [];
    let won = false;
    /** Asks by p; true when the chain ends here (a mapping, or silence), false to ask by its next protocol. */
    const ask = async (p: PortMappingProtocol): Promise<boolean> => {
      const mapper = this.#o.factory(p);
      const signal = timeoutSignal(ATTEMPT_TIMEOUT_MS);
      try {
        const lease = await mapper.map({ internalPort: this.#o.internalPort, lifetimeSec: this.#o.lifetimeSec, signal });
        if (round !== this.#round) {
          // Stopped (or the mode changed) meanwhile: give it back.
          await mapper.unmap(lease, timeoutSignal(UNMAP_TIMEOUT_MS)).catch(() => undefined);
          await mapper.close().catch(() => undefined);
          return true;
        }
        won = true;
        this.#mapper = mapper;
        this.#granted(lease, true);
        this.#watchRestart(mapper);
        return true;
      } catch (err) {
        errors.push(`${p}: ${(err as Error).message}`);
        await mapper.close().catch(() => undefined);
        return signal.aborted;
      }
    };
    for (const chain of chains(this.#mode as Exclude<PortMappingMode, 'off'>)) {
      for (const p of chain) if ((await ask(p)) || round !== this.#round) break;
      this.#firstChainEnded();
      if (won || round !== this.#round) break;
    }
    this.#firstChainEnded();
    if (round !== this.#round) return;
    this.#pending = false;
    if (!won) {
      this.#error = errors.join('; ');
      this.#o.log('info', { mode: this.#mode, error: this.#error, retryInSec: RETRY_NONE_MS / 1000 }, 'no port mapping');
      this.#schedule(RETRY_NONE_MS, () => void this.#attemptTracked());
    }
  }

  #granted(lease: PortMappingLease, fresh: boolean): void {
    const changed = this.#lease === undefined || this.#lease.externalAddress !== lease.externalAddress || this.#lease.externalPort !== lease.externalPort;
    this.#lease = lease;
    this.#error = null;
    this.#expiresAt = Date.now() + lease.lifetimeSec * 1000;
    if (fresh || changed) this.#o.log('info', { protocol: lease.protocol, external: `${lease.externalAddress}:${lease.externalPort}`, internalPort: lease.internalPort, lifetimeSec: lease.lifetimeSec }, 'port mapping');
    // RFC 6886 §3.3: renew halfway to expiry.
    this.#schedule((lease.lifetimeSec * 1000) / 2, () => void this.#renew());
    if (changed) this.#o.onChange(lease);
  }

  /** The gateway's restarts (PCP) make the mapping again; a mapper that cannot listen for them is logged. */
  #watchRestart(mapper: PortMapper): void {
    const onRestart = (): void => {
      if (this.#mapper !== mapper) return;
      this.#o.log('info', { protocol: mapper.protocol }, 'the gateway lost its port mappings (RFC 6887 §8.5 epoch): mapping again');
      void this.#renew(true);
    };
    mapper.watchRestart?.(onRestart).catch((err: Error) => this.#o.log('warn', { protocol: mapper.protocol, error: err.message }, 'gateway restarts seen in answers only'));
  }

  /** Renews the lease: halfway to expiry, or at once after the gateway lost it (`recreate`). */
  async #renew(recreate = false): Promise<void> {
    const round = this.#round;
    const mapper = this.#mapper;
    if (mapper === undefined) return;
    try {
      const lease = await mapper.map({ internalPort: this.#o.internalPort, lifetimeSec: this.#o.lifetimeSec, signal: timeoutSignal(ATTEMPT_TIMEOUT_MS) });
      if (round !== this.#round) return;
      if (recreate) this.#recreations++;
      else this.#renewals++;
      this.#granted(lease, recreate);
    } catch (err) {
      if (round !== this.#round) return;
      this.#error = `renewal failed: ${(err as Error).message}`;
      const left = this.#expiresAt - Date.now();
      if (left > RETRY_RENEW_MS) {
        this.#o.log('warn', { error: this.#error, lifetimeLeftSec: Math.round(left / 1000) }, 'port mapping renewal failed');
        return this.#schedule(RETRY_RENEW_MS, () => void this.#renew());
      }
      // The lease runs out before another try: it is lost; ask afresh later.
      this.#o.log('warn', { error: this.#error }, 'port mapping lost');
      this.#lease = undefined;
      this.#mapper = undefined;
      await mapper.close().catch(() => undefined);
      this.#o.onChange(undefined);
      this.#schedule(Math.max(0, left), () => void this.#attemptTracked());
    }
  }

  #schedule(ms: number, f: () => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(f, ms);
    this.#timer.unref();
  }
}
