// A pino destination that keeps every log line as a parsed object, so tests assert on fields
// (`{ level: 'warn', msg: 'unknown RAS server' }`) instead of scraping text.

import { Writable } from 'node:stream';
import { createLogger, type LogLevel, type Logger } from '../../src/runtime/logger.js';

export interface LogCapture {
  /** Every line written so far, parsed; a test may clear it with `lines.length = 0`. */
  readonly lines: Record<string, unknown>[];
  readonly destination: Writable;
}

export function captureLogLines(): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

/** A logger for `agent` at `level` whose lines land in `lines`. */
export function capturedLogger(agent: string, level: LogLevel = 'debug'): LogCapture & { logger: Logger } {
  const capture = captureLogLines();
  return { ...capture, logger: createLogger({ agent, level, destination: capture.destination }) };
}
