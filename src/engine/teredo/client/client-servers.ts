// Which Teredo server the client uses, and when it tries again: [the primary server, ...fallbacks]. RFC 4380
// knows one server; a client with several falls over to the next one at once when one stops answering (a dead
// server must not cost a backoff), and once every server failed in a row it goes offline and starts over from the
// first after a backoff doubling from backoffInitialMs to backoffMaxMs (a captive portal that blocks UDP for a
// while costs at most that cap once it opens, never a restart). Qualified with a fallback, the client asks the
// first server every preferredRetryMs and returns to it when it answers (client-procedure.ts sends those RSs).

import type { ServerPair } from './client-ra.js';
import type { ClientConfig } from './client-types.js';

export class ServerChoice {
  #servers: ServerPair[];
  #index = 0;
  /** Servers given up on in a row since the last qualification (a full round means: back off). */
  #failedInRow = 0;
  /** Offline rounds since the last qualification: the backoff's exponent. */
  #failures = 0;
  /** Moves from one server to another (status counter). */
  switches = 0;

  constructor(cfg: ClientConfig) {
    this.#servers = serverList(cfg);
  }

  /** The server in use. */
  get current(): ServerPair {
    return this.#servers[this.#index]!;
  }

  /** The primary server (the first configured). */
  get first(): ServerPair {
    return this.#servers[0]!;
  }

  /** The current server's place in [primary, ...fallbacks]. */
  get index(): number {
    return this.#index;
  }

  /** Copies of the configured servers, in order. */
  list(): ServerPair[] {
    return this.#servers.map((p) => ({ ...p }));
  }

  /** A new configuration; true when the server addresses changed (then back to the first). */
  replace(cfg: ClientConfig): boolean {
    const servers = serverList(cfg);
    if (JSON.stringify(servers) === JSON.stringify(this.#servers)) return false;
    this.#servers = servers;
    this.#index = 0;
    this.#failedInRow = 0;
    return true;
  }

  /** The current server failed: true = moved on to the next; false = a full round failed (go offline). */
  next(): boolean {
    this.#failedInRow++;
    if (this.#failedInRow >= this.#servers.length) return false;
    this.#index = (this.#index + 1) % this.#servers.length;
    this.switches++;
    return true;
  }

  /** Qualified: failures forgotten. */
  qualified(): void {
    this.#failedInRow = 0;
    this.#failures = 0;
  }

  /** The backoff is over: a new round from the first server. */
  restart(): void {
    this.#index = 0;
    this.#failedInRow = 0;
  }

  /** The first server answered while on a fallback: true = switched back to it (qualify again). */
  backToFirst(): boolean {
    if (this.#index === 0) return false;
    this.restart();
    this.switches++;
    return true;
  }

  /** The wait before the next round, ms: backoffInitialMs doubled per round failed in a row, at most backoffMaxMs. */
  backoffMs(cfg: ClientConfig): number {
    const wait = Math.min(cfg.backoffMaxMs, cfg.backoffInitialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return wait;
  }
}

/** [primary server, ...fallbacks] as server pairs. */
function serverList(c: ClientConfig): ServerPair[] {
  return [{ primary: c.primary, secondary: c.secondary }, ...c.fallbacks];
}
