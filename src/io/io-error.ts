// Errors raised by the I/O adapters: a stable `code` (IO_TUN_OPEN, IO_TUN_WRITE, IO_ICMPV6_SEND, IO_UDP_SEND,
// ...) plus the errno / syscall when the kernel said no, so agents can map start-up failures to exit codes
// and logs stay greppable (undici-style codes).

export class IoError extends Error {
  override readonly name = 'IoError';
  constructor(
    readonly code: string,
    message: string,
    readonly errno?: number,
    readonly syscall?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps an error thrown by the addon or node (which carry .code / .errno / .syscall) with our code. */
export function ioErrorFrom(code: string, context: string, cause: unknown): IoError {
  const c = cause as { message?: unknown; errno?: unknown; syscall?: unknown; code?: unknown };
  const errno = typeof c?.errno === 'number' ? Math.abs(c.errno) : undefined;
  const syscall = typeof c?.syscall === 'string' ? c.syscall : undefined;
  const detail = typeof c?.message === 'string' ? c.message : String(cause);
  return new IoError(code, `${context}: ${detail}`, errno, syscall, { cause });
}

/**
 * The error handler adapters use until onError is called: like an EventEmitter 'error' without a listener,
 * the error becomes an uncaught exception, so a forgotten handler is loud instead of silent.
 */
export function rethrowLater(error: Error): void {
  queueMicrotask(() => {
    throw error;
  });
}
