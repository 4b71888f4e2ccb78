// Process lifecycle: turns signals into work for the agent, radvd style (handlers only set flags; the main
// loop does the work). Here a handler only enqueues a job, and one serial queue runs the jobs, so a reload
// never overlaps a stop.
//
//   SIGTERM / SIGINT  → stop(): the agent sends its final packets (RAs with router lifetime 0, RFC 4861
//                       §6.2.5) and closes its sockets; then exit 0. A second SIGTERM/SIGINT, or the stop
//                       taking longer than stopTimeoutMs, forces exit 1.
//   SIGHUP            → reload(): re-read and re-validate the config; on failure the agent keeps the old one.
//   SIGUSR1           → usr1(): an agent-specific "act now" (rasadv advertises immediately).

import type { Logger } from './logger.js';

export const DEFAULT_STOP_TIMEOUT_MS = 5000;

export interface LifecycleHandlers {
  /** Graceful stop. When it settles the process exits (0 if it resolved, 1 if it threw). */
  stop(): Promise<void> | void;
  reload?(): Promise<void> | void;
  usr1?(): Promise<void> | void;
}

/** The part of `process` the lifecycle uses; tests pass an EventEmitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface LifecycleOptions {
  logger: Logger;
  handlers: LifecycleHandlers;
  stopTimeoutMs?: number;
  signals?: SignalSource;
  exit?: (code: number) => void;
}

export interface Lifecycle {
  /**
   * Starts a graceful stop as if SIGTERM had arrived. A fatal runtime error (the TUN device vanished)
   * passes exitCode 1 so a supervisor (systemd Restart=on-failure) restarts the agent.
   */
  requestStop(reason: string, exitCode?: number): void;
  /** Resolves with the exit code once the process is about to exit. */
  readonly exited: Promise<number>;
  /** Removes the signal handlers (tests; the process normally exits instead). */
  dispose(): void;
}

type Job = 'reload' | 'usr1';

export function installLifecycle(options: LifecycleOptions): Lifecycle {
  const { logger, handlers } = options;
  const signals: SignalSource = options.signals ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;

  let stopping = false;
  let exited = false;
  let resolveExited: (code: number) => void = () => {};
  const exitedPromise = new Promise<number>((resolve) => (resolveExited = resolve));
  // The serial job queue: each job starts when the previous one settled.
  let queue: Promise<void> = Promise.resolve();

  const finish = (code: number): void => {
    if (exited) return;
    exited = true;
    dispose();
    resolveExited(code);
    exit(code);
  };

  const enqueue = (job: Job): void => {
    queue = queue.then(async () => {
      if (stopping) return; // a stop supersedes pending reloads and pokes
      const handler = job === 'reload' ? handlers.reload : handlers.usr1;
      if (!handler) {
        logger.debug({ job }, 'signal ignored');
        return;
      }
      try {
        await handler();
      } catch (err) {
        logger.error({ err, job }, `${job} failed`);
      }
    });
  };

  const requestStop = (reason: string, exitCode = 0): void => {
    if (stopping) {
      logger.warn({ reason }, 'forced exit');
      finish(1);
      return;
    }
    stopping = true;
    if (exitCode === 0) logger.info({ reason }, 'stopping');
    else logger.error({ reason, exitCode }, 'stopping');
    const timer = setTimeout(() => {
      logger.error({ stopTimeoutMs }, 'stop timed out');
      finish(1);
    }, stopTimeoutMs);
    queue = queue.then(async () => {
      let code = exitCode;
      try {
        await handlers.stop();
        logger.info('stopped');
      } catch (err) {
        logger.error({ err }, 'stop failed');
        code = 1;
      }
      clearTimeout(timer);
      finish(code);
    });
  };

  const onTerm = (): void => requestStop('SIGTERM');
  const onInt = (): void => requestStop('SIGINT');
  const onHup = (): void => {
    logger.info({ signal: 'SIGHUP' }, 'reload requested');
    enqueue('reload');
  };
  const onUsr1 = (): void => {
    logger.debug({ signal: 'SIGUSR1' }, 'signal');
    enqueue('usr1');
  };
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  signals.on('SIGHUP', onHup);
  signals.on('SIGUSR1', onUsr1);

  function dispose(): void {
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
    signals.off('SIGHUP', onHup);
    signals.off('SIGUSR1', onUsr1);
  }

  return { requestStop, exited: exitedPromise, dispose };
}
