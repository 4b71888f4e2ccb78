// AgentError: the one error type for start-up and operational failures of an agent process (undici style:
// a stable `code` that code and tests branch on, never the message text). Packet-level problems are not
// errors at all: engines turn them into `{ kind: 'drop', reason }` outputs. Only start-up problems (bad
// config, a port that cannot be bound, a TUN device that cannot be opened) end the process, and
// `exitCodeFor` is the single table that maps them to exit statuses.

export type AgentErrorCode =
  /** Bad command line: unknown flag, missing argument (exit 2, like every POSIX tool). */
  | 'USAGE'
  /** The configuration failed validation; `details` lists every problem. */
  | 'CONFIG_INVALID'
  /** The configuration file could not be read or is not valid JSON. */
  | 'CONFIG_READ'
  /** A UDP or control socket could not be bound (EADDRINUSE, EACCES, EADDRNOTAVAIL). */
  | 'IO_BIND'
  /** The TUN device could not be created or attached. */
  | 'IO_TUN_OPEN'
  /** A raw ICMPv6 socket could not be opened or configured. */
  | 'IO_RAW_SOCKET'
  /** A named network interface does not exist or cannot be configured. */
  | 'IO_INTERFACE'
  /** `status`: no agent of that name listens in this network namespace. */
  | 'CONTROL_NO_LISTENER'
  /** `status`: the agent did not answer in time, or answered garbage. */
  | 'CONTROL_FAILED'
  /** A bug: something the program believed impossible. */
  | 'INTERNAL';

export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly code: AgentErrorCode;
  /** One line per problem, e.g. every invalid config field; printed after the message. */
  readonly details: readonly string[];

  constructor(code: AgentErrorCode, message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
  }
}

/**
 * Exit statuses. 2 for usage errors (POSIX convention), 3 when `status` finds nothing running (LSB
 * "program is not running", what `systemctl status` returns), 1 for everything else that stops start-up.
 */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof AgentError)) return 1;
  switch (err.code) {
    case 'USAGE':
      return 2;
    case 'CONTROL_NO_LISTENER':
      return 3;
    default:
      return 1;
  }
}

/** The text printed on stderr for a start-up failure: the message, then one indented line per detail. */
export function formatAgentError(err: unknown): string {
  if (err instanceof AgentError) {
    return [err.message, ...err.details.map((d) => `  ${d}`)].join('\n');
  }
  if (err instanceof Error) return `internal error: ${err.stack ?? err.message}`;
  return `internal error: ${String(err)}`;
}

/** Maps a socket errno from bind() to an AgentError naming what was being bound. */
export function bindError(what: string, err: unknown): AgentError {
  const errno = (err as { code?: string } | null)?.code;
  const why =
    errno === 'EADDRINUSE'
      ? 'address already in use'
      : errno === 'EACCES'
        ? 'permission denied'
        : errno === 'EADDRNOTAVAIL'
          ? 'address not available on this host'
          : ((err as Error | null)?.message ?? String(err));
  return new AgentError('IO_BIND', `cannot bind ${what}: ${why}`, { cause: err });
}
