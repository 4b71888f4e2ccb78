// The client hook (Miredo's `client-hook` idea): a program run on every state change, so a host can adjust a
// firewall, DNS or policy routing when its Teredo address comes or goes. It gets, in its environment:
//
//   STATE        up (qualified, address configured) | down (no address)    (Miredo's names)
//   CLIENT_STATE offline | probe-primary | probe-secondary | qualified     (ours, finer)
//   OLD_STATE    the previous STATE
//   IFACE        interface name        ADDRESS / OLD_ADDRESS   Teredo address now / before ("" when none)
//   MTU          1280                  NAT                     cone | restricted | symmetric | unknown
//
// Runs are serialized (the next starts when the previous exits) and bounded: at most MAX_PENDING waiting, the
// oldest dropped beyond (only the latest state matters), each killed after HOOK_TIMEOUT_MS. Failures are logged,
// never fatal. The program is run directly (no shell): give a script path.

import { spawn } from 'node:child_process';
import type { Logger } from '../../src/runtime/logger.js';

export interface HookEvent {
  readonly state: 'up' | 'down';
  readonly oldState: 'up' | 'down';
  readonly clientState: string;
  readonly iface: string;
  readonly address: string;
  readonly oldAddress: string;
  readonly mtu: number;
  readonly nat: string;
}

export const HOOK_TIMEOUT_MS = 30_000;
export const MAX_PENDING = 8;

export class HookRunner {
  readonly #queue: HookEvent[] = [];
  #running = false;
  #runs = 0;
  #failures = 0;

  constructor(
    private command: string | undefined,
    private readonly logger: Logger,
  ) {}

  get counters(): { runs: number; failures: number } {
    return { runs: this.#runs, failures: this.#failures };
  }

  setCommand(command: string | undefined): void {
    this.command = command;
  }

  fire(event: HookEvent): void {
    if (this.command === undefined) return;
    if (this.#queue.length >= MAX_PENDING) this.#queue.shift();
    this.#queue.push(event);
    if (!this.#running) this.#next();
  }

  /** Resolves once every queued run has finished (used at stop, so the last "down" runs). */
  async drain(): Promise<void> {
    while (this.#running || this.#queue.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  #next(): void {
    const event = this.#queue.shift();
    const command = this.command;
    if (event === undefined || command === undefined) {
      this.#running = false;
      return;
    }
    this.#running = true;
    this.#runs++;
    const env = {
      ...process.env,
      STATE: event.state,
      OLD_STATE: event.oldState,
      CLIENT_STATE: event.clientState,
      IFACE: event.iface,
      ADDRESS: event.address,
      OLD_ADDRESS: event.oldAddress,
      MTU: String(event.mtu),
      NAT: event.nat,
    };
    const child = spawn(command, [], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: HOOK_TIMEOUT_MS });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr.length < 4096 && (stderr += d.toString())));
    // A program that cannot start emits 'error' (and maybe 'close'); one that ran emits 'close'. Either
    // ends this run, once.
    let finished = false;
    const finish = (failed: boolean, detail: Record<string, unknown>): void => {
      if (finished) return;
      finished = true;
      if (failed) {
        this.#failures++;
        this.logger.warn({ hook: command, ...detail, stderr: stderr.trim() }, 'hook failed');
      } else {
        this.logger.debug({ hook: command, state: event.state }, 'hook ran');
      }
      this.#next();
    };
    child.on('error', (err) => finish(true, { err }));
    child.on('close', (code, signal) => finish(code !== 0, { code, signal }));
  }
}
