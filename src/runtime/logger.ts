// Logging: pino JSON lines on stdout, one line per event, so journald and docker capture them and any
// shipping or pretty-printing happens outside the process (pino's stance). Messages are short event names
// ("ra sent", "qualified") with the data in fields, never interpolated. One root logger per agent; use
// `logger.child({ iface })` / `child({ peer })` for context. Level from --log-level (or LOG_LEVEL).

import { pino } from 'pino';

export type Logger = pino.Logger;

/** pino's levels, most verbose first, plus `silent`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  /** Agent name, written as the `agent` field of every line. */
  agent: string;
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to capture them. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: { agent: options.agent, pid: process.pid },
    // Level names rather than pino's numbers: `"level":"warn"` is what people grep for in journald.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Synchronous stdout by default: pino's asynchronous destination flushes its buffer synchronously at
  // process.exit while an earlier write may still be in flight on the libuv pool, so the last lines of a stop
  // ('final packet sent', 'stopped') could reach journald out of order. Per-packet lines are debug-level and
  // rate-limited, so the cost of a write(2) per line is small.
  return pino(pinoOptions, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/**
 * A per-key rate limiter for repetitive log lines (per-packet drops, repeated send errors, alerts a flood could
 * multiply): allows up to `burst` events of a key per `intervalMs` window, and reports with the next allowed one
 * how many were suppressed since, so the log still says how often it happened.
 */
export class LogRateLimiter {
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #state = new Map<string, { windowStart: number; count: number; suppressed: number }>();

  constructor(intervalMs: number, burst = 1) {
    this.#intervalMs = intervalMs;
    this.#burst = burst;
  }

  /** Returns the number of suppressed events to report if this one should be logged, else undefined. */
  allow(key: string, now: number): number | undefined {
    let s = this.#state.get(key);
    if (s === undefined) {
      s = { windowStart: now, count: 0, suppressed: 0 };
      this.#state.set(key, s);
    } else if (now - s.windowStart >= this.#intervalMs) {
      s.windowStart = now;
      s.count = 0;
    }
    if (s.count >= this.#burst) {
      s.suppressed++;
      return undefined;
    }
    s.count++;
    const suppressed = s.suppressed;
    s.suppressed = 0;
    return suppressed;
  }
}

/** How often (at most) one source of I/O errors (a socket, a TUN device) is logged. */
export const IO_ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * The I/O errors an agent's ports report after start-up (a failed send, a receive error): every one counted
 * (`count`, shown in status), logged at warn at most once a minute per source with the number held back.
 */
export class IoErrorLog {
  count = 0;
  readonly #limiter = new LogRateLimiter(IO_ERROR_LOG_INTERVAL_MS);

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** The onError handler for the source named `where` ('primary', 'tun', ...). */
  handler(where: string): (err: Error) => void {
    return (err) => {
      this.count++;
      const suppressed = this.#limiter.allow(where, this.now());
      if (suppressed !== undefined) this.logger.warn({ err, where, suppressed }, 'i/o error');
    };
  }
}
