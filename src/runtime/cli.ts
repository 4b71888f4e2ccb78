// The command line every agent shares, and the one place that turns start-up failures into messages and
// exit codes. An agent's main.ts declares an AgentDefinition and calls runAgentMain; this file wires:
//
//   <agent> [--config FILE] [--log-level L] [--instance NAME] [config flags...]   run the agent
//   <agent> --metrics ADDR:PORT [...]  also serve the agent's metrics to Prometheus (metrics.ts)
//   <agent> --check-config [...]     validate only: "config ok" + exit 0, or every problem + exit 1
//   <agent> status [--json] [--instance NAME] [--timeout MS]
//                                    query the agent running in THIS network namespace (status.ts, control.ts)
//
// Exit codes (errors.ts exitCodeFor): 0 ok, 1 start-up failure (config, bind, TUN), 2 usage, 3 not running.
// Once running, lifecycle.ts owns the process: SIGTERM/SIGINT stop, SIGHUP reload, SIGUSR1 poke.

import { parseArgs } from 'node:util';
import type { Options } from 'yargs';
import type { ConfigImport, ConfigSources, ConfigSpec } from './config.js';
import { configYargsOptions, readConfigFile, validateConfig } from './config.js';
import type { ControlRequest, ControlServer } from './control.js';
import { controlName, serveControl } from './control.js';
import { AgentError, exitCodeFor, formatAgentError } from './errors.js';
import type { Lifecycle, LifecycleOptions, SignalSource } from './lifecycle.js';
import { installLifecycle } from './lifecycle.js';
import type { LogLevel, LoggerOptions } from './logger.js';
import { LOG_LEVELS, createLogger, isLogLevel } from './logger.js';
import { parseMetricsAddress, serveMetrics, type MetricSpec, type MetricsServer } from './metrics.js';
import type { AgentStatus, StatusBase, StatusFormatter } from './status.js';
import { runAgent, type CommonConfig, type Host, type AgentParts, type HostDeps, type RunningAgent } from './host.js';
import { DEFAULT_STATUS_TIMEOUT_MS, printAgentStatus } from './status.js';

/**
 * An agent: its name, config spec (fields with `live` flags), foreign files it imports, and `setup`, which the
 * host (host.ts) runs to open its ports and engines. S is the agent's status type (its one definition, shared
 * with its formatter, the lab's occupant and the tests).
 */
export interface AgentDefinition<C extends CommonConfig, S> {
  /** Program name: teredo-server, teredo-relay, teredo-client, rasadv advertise, rasadv listen, ra-sender. */
  readonly name: string;
  readonly description: string;
  readonly config: ConfigSpec<C>;
  /** Foreign config files read in place of --config, at start and on every SIGHUP (--miredo-conf, --radvd-conf). */
  readonly imports?: readonly ConfigImport[];
  /** Opens ports and engines on the host; throws AgentError (IO_BIND, IO_TUN_OPEN, ...) on failure. */
  setup(host: Host<C>): Promise<AgentParts<C, S>> | AgentParts<C, S>;
  /**
   * `<agent> status` for people: the lines under the runtime's header line. Without it `status` prints the JSON
   * object, as `status --json` always does.
   */
  readonly formatStatus?: StatusFormatter<S>;
  /** The agent's own metrics for --metrics (agents/<name>/metrics.ts); the runtime adds the common ones (metrics.ts). */
  readonly metrics?: readonly MetricSpec<S>[];
  /**
   * The instance name when no --instance is given, decided from the loaded config (flags and file alike): e.g. a
   * one-shot run that must not take the control socket of the daemon it runs beside. Undefined: the default name.
   */
  defaultInstance?(config: C): string | undefined;
  /** Longest graceful stop before the process exits anyway (lifecycle.ts default: 5 s). */
  readonly stopTimeoutMs?: number;
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Injection points for tests; every one defaults to the real process. */
export interface RunOptions {
  argv?: readonly string[];
  io?: CliIo;
  exit?: (code: number) => void;
  signals?: SignalSource;
  logDestination?: LoggerOptions['destination'];
  stopTimeoutMs?: number;
  /** The host's seams (fake ports, clock); tests only. */
  hostDeps?: HostDeps;
}

const COMMON_OPTIONS: Record<string, Options> = {
  config: { type: 'string', describe: 'JSON config file (flags override its values)' },
  'log-level': { type: 'string', describe: `log level: ${LOG_LEVELS.join(', ')} (default info, or $LOG_LEVEL)` },
  'check-config': { type: 'boolean', describe: 'validate the configuration, print "config ok" or every problem, and exit' },
  instance: { type: 'string', describe: 'instance name, when several run in one network namespace' },
  metrics: { type: 'string', describe: 'serve Prometheus metrics at http://ADDR:PORT/metrics, e.g. 127.0.0.1:9464 (default: off)' },
};

type Action = { kind: 'run'; args: Record<string, unknown> } | { kind: 'status'; args: Record<string, unknown> };

export async function runAgentMain<T extends CommonConfig, S>(def: AgentDefinition<T, S>, options: RunOptions = {}): Promise<void> {
  const io: CliIo = options.io ?? { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
  const exit = options.exit ?? exitAfterDrain;
  try {
    const action = await parseCommandLine(def, options.argv ?? process.argv.slice(2), io);
    if (action === undefined) return exit(0); // --help printed
    if (action.kind === 'status') return exit(await printAgentStatus(def.name, { ...action.args, instance: instanceFrom(action.args) }, io, def.formatStatus));
    if (action.args['check-config'] === true) return exit(checkConfig(def, action.args, io));
    await startAgent(def, action.args, options, exit);
  } catch (err) {
    io.stderr(`${def.name}: ${formatAgentError(err)}\n`);
    if (err instanceof AgentError && err.code === 'USAGE') io.stderr(`Try '${def.name} --help'.\n`);
    exit(exitCodeFor(err));
  }
}

/**
 * The real process's exit: exits with `code` once everything written to stdout and stderr so far has left
 * the process. Node writes to pipes asynchronously and process.exit() drops what is still queued, which cut
 * `status --json | jq` at the 64 KiB pipe buffer. A reader that went away (EPIPE) ends the wait as well; the
 * code stays `code`. Used for `status`, --help, --check-config, start-up failures and the lifecycle's exit.
 */
export function exitAfterDrain(code: number): void {
  process.exitCode = code;
  void Promise.all([drained(process.stdout), drained(process.stderr)]).then(() => process.exit(code));
}

/** Resolves when the writes queued on `stream` before this call are done (or failed: nobody reads any more). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    // An EPIPE is also emitted as 'error'; unheard, it would crash the exit with a stack trace.
    stream.on('error', () => resolve());
    // Writes complete in order, so the callback of an empty one runs after every earlier write.
    stream.write('', () => resolve());
  });
}

async function parseCommandLine<T extends CommonConfig, S>(def: AgentDefinition<T, S>, argv: readonly string[], io: CliIo): Promise<Action | undefined> {
  let action: Action | undefined;
  const configFlags = configYargsOptions(def.config);
  for (const reserved of ['help', ...Object.keys(COMMON_OPTIONS)]) {
    if (Object.hasOwn(configFlags, reserved)) throw new AgentError('INTERNAL', `config field flag --${reserved} clashes with a common flag`);
  }
  const imports = Object.fromEntries((def.imports ?? []).map((i): [string, Options] => [i.flag, { type: 'string', describe: i.describe }]));
  const flags: Record<string, Options> = { ...COMMON_OPTIONS, ...configFlags, ...imports };
  const plain = plainStart(flags, argv);
  if (plain !== undefined) return { kind: 'run', args: plain };
  const { default: yargs } = await import('yargs');
  const parser = yargs()
    .scriptName(def.name)
    .strict()
    .exitProcess(false)
    .version(false)
    .help()
    .wrap(null)
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw err instanceof AgentError ? err : new AgentError('USAGE', msg ?? err?.message ?? 'bad command line');
    })
    .usage(`$0 [options]\n\n${def.description}`)
    .command('$0', `run ${def.name} (the default)`, (y) => y.options(flags), (args) => {
      action = { kind: 'run', args };
    })
    .command(
      'status',
      `show the state of the ${def.name} running in this network namespace`,
      (y) =>
        y
          .usage(`$0 status [--json] [--instance NAME] [--timeout MS]\n\nShow the state and counters of the ${def.name} running in this network namespace.`)
          .options({
            json: { type: 'boolean', describe: 'print the whole status object as JSON (for scripts)' },
            instance: COMMON_OPTIONS.instance!,
            timeout: { type: 'string', describe: `milliseconds to wait for an answer (default ${DEFAULT_STATUS_TIMEOUT_MS})` },
          }),
      (args) => {
        action = { kind: 'status', args };
      },
    );
  // yargs prints --help output itself; route it through io so tests and redirects see it.
  await parser.parseAsync([...argv], {}, (_err, _argv, output) => {
    if (output) io.stdout(`${output}\n`);
  });
  return action;
}

/**
 * A plain start (`<agent> --flag value ...`: only known flags, each string given a value, no command, no --help)
 * read with node:util's parseArgs, in yargs' shape (a flag given once is a string, given more often an array).
 * Undefined for anything else, which yargs then parses, and reports. Loading yargs costs a start ~100 ms and
 * ~13 MiB (docs/performance.md, "Start-up and memory"), and a daemon's command line is a plain start.
 */
function plainStart(flags: Record<string, Options>, argv: readonly string[]): Record<string, unknown> | undefined {
  const options: Record<string, { type: 'boolean' } | { type: 'string'; multiple: true }> = {};
  for (const [name, o] of Object.entries(flags)) options[name] = o.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: true };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch {
    return undefined;
  }
  const args: Record<string, unknown> = { _: [] };
  for (const [name, v] of Object.entries(values)) args[name] = Array.isArray(v) && v.length === 1 ? v[0] : v;
  return args;
}

/** The import named on the command line, if any, and its path. */
function importFrom(imports: readonly ConfigImport[], args: Record<string, unknown>): { imp: ConfigImport; path: string } | undefined {
  const given = imports.filter((i) => args[i.flag] !== undefined);
  const files = [...(args.config !== undefined ? ['--config'] : []), ...given.map((i) => `--${i.flag}`)];
  if (files.length > 1) throw new AgentError('USAGE', `${files.join(' and ')} exclude each other: give one file`);
  return given[0] === undefined ? undefined : { imp: given[0], path: String(args[given[0].flag]) };
}

/**
 * Reads the config file named on the command line (--config, or a declared import) and pairs it with the flags.
 * Called at start, by --check-config and on every SIGHUP, so an imported file is read again each time.
 */
function configSourcesFrom<T extends CommonConfig, S>(def: AgentDefinition<T, S>, args: Record<string, unknown>): ConfigSources {
  const imported = importFrom(def.imports ?? [], args);
  if (imported) return { file: { ...imported.imp.read(imported.path), imported: true }, flags: args };
  return typeof args.config === 'string' ? { file: readConfigFile(args.config), flags: args } : { flags: args };
}

/** configSourcesFrom + validateConfig; throws CONFIG_READ, or CONFIG_INVALID with every problem in details. */
function loadConfigFrom<T extends CommonConfig, S>(def: AgentDefinition<T, S>, args: Record<string, unknown>): { config: T; warnings: string[] } {
  const result = validateConfig(def.config, configSourcesFrom(def, args));
  if (result.ok) return result;
  const n = result.problems.length;
  throw new AgentError('CONFIG_INVALID', `invalid configuration (${n} problem${n === 1 ? '' : 's'}):`, { details: result.problems });
}

function checkConfig<T extends CommonConfig, S>(def: AgentDefinition<T, S>, args: Record<string, unknown>, io: CliIo): number {
  // The flags outside the schema fail the start too, so the check (systemd ExecStartPre) must catch them.
  logLevelFrom(args);
  instanceFrom(args);
  metricsFrom(args);
  const result = validateConfig(def.config, configSourcesFrom(def, args));
  if (result.ok) {
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    io.stdout('config ok\n');
    return 0;
  }
  io.stderr(`${def.name}: invalid configuration (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}):\n`);
  for (const p of result.problems) io.stderr(`  ${p}\n`);
  return 1;
}

/** Instance names become part of the abstract socket path (at most 108 bytes), so keep them short and plain. */
function instanceFrom(args: Record<string, unknown>): string | undefined {
  if (args.instance === undefined) return undefined;
  const instance = String(args.instance);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instance)) {
    throw new AgentError('USAGE', `--instance (${JSON.stringify(instance)}) must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  return instance;
}

function metricsFrom(args: Record<string, unknown>): ReturnType<typeof parseMetricsAddress> | undefined {
  return args.metrics === undefined ? undefined : parseMetricsAddress(String(args.metrics));
}

function logLevelFrom(args: Record<string, unknown>): LogLevel {
  const [source, requested] = args['log-level'] !== undefined ? ['--log-level', args['log-level']] : ['LOG_LEVEL', process.env.LOG_LEVEL ?? 'info'];
  if (!isLogLevel(requested)) throw new AgentError('USAGE', `${source} (${String(requested)}) must be one of ${LOG_LEVELS.join(', ')}`);
  return requested;
}

async function startAgent<T extends CommonConfig, S>(def: AgentDefinition<T, S>, args: Record<string, unknown>, options: RunOptions, exit: (code: number) => void): Promise<void> {
  const level = logLevelFrom(args);
  const metricsAt = metricsFrom(args);
  const { config, warnings } = loadConfigFrom(def, args);
  const instance = instanceFrom(args) ?? instanceFrom({ instance: def.defaultInstance?.(config) });
  const logger = createLogger({ agent: def.name, level, ...(options.logDestination ? { destination: options.logDestination } : {}) });
  for (const w of warnings) logger.warn({ warning: w }, 'config warning');
  const startedAt = Date.now();
  let running: RunningAgent<T, S> | undefined;
  let reloads = 0;
  let lifecycle: Lifecycle | undefined = undefined;
  // A fatal error during start() is thrown instead; this only serves failures once running.
  const fatal = (reason: string, exitCode = 1): void => {
    if (lifecycle) lifecycle.requestStop(reason, exitCode);
    else logger.error({ reason, hint: 'throw from start() instead' }, 'fatal ignored during start-up');
  };

  const currentStatus = (): AgentStatus<S> => {
    const base: StatusBase = { agent: def.name, instance: instance ?? null, pid: process.pid, uptimeSec: Math.round((Date.now() - startedAt) / 1000), reloads };
    return running ? { ...base, lifecycle: 'running', ...running.status() } : { ...base, lifecycle: 'starting' };
  };

  // The control socket comes first: it doubles as the "already running here" check, before ports are bound.
  let control: ControlServer;
  try {
    control = await serveControl(controlName(def.name, instance), (request: ControlRequest) => {
      if (request.cmd !== 'status') throw new Error(`unknown command ${JSON.stringify(request.cmd)}`);
      return currentStatus();
    });
  } catch (err) {
    const who = instance ? `${def.name} instance ${instance}` : def.name;
    throw new AgentError('IO_BIND', `another ${who} is already running in this network namespace (use --instance to run several)`, { cause: err });
  }
  let metrics: MetricsServer | undefined;
  try {
    // Bound before the agent's sockets open, so a taken metrics port fails the start with nothing to undo.
    if (metricsAt) metrics = await serveMetrics(def.name, metricsAt, currentStatus, def.metrics);
    running = await runAgent(def.config, (host) => def.setup(host), { name: def.name, instance, config, logger, fatal }, options.hostDeps);
  } catch (err) {
    await metrics?.close();
    await control.close();
    throw err;
  }
  const agent = running;
  if (metrics) logger.info({ url: `http://${metrics.address}/metrics` }, 'metrics serving');

  const lifecycleOptions: LifecycleOptions = {
    logger,
    exit,
    handlers: {
      stop: async () => {
        try {
          await agent.stop();
        } finally {
          await metrics?.close();
          await control.close();
        }
      },
      reload: async () => {
        let next: { config: T; warnings: string[] };
        try {
          next = loadConfigFrom(def, args);
        } catch (err) {
          const problems = err instanceof AgentError ? [err.message, ...err.details] : [String(err)];
          logger.error({ problems, kept: 'old config' }, 'reload rejected');
          return;
        }
        for (const w of next.warnings) logger.warn({ warning: w }, 'config warning');
        await agent.reload(next.config);
        reloads++;
        logger.info('config reloaded');
      },
      ...(agent.usr1 ? { usr1: () => agent.usr1!() } : {}),
    },
  };
  if (options.signals) lifecycleOptions.signals = options.signals;
  const stopTimeoutMs = options.stopTimeoutMs ?? def.stopTimeoutMs;
  if (stopTimeoutMs !== undefined) lifecycleOptions.stopTimeoutMs = stopTimeoutMs;
  lifecycle = installLifecycle(lifecycleOptions);
  // Logged only once the signal handlers are in place: supervisors and tests may signal as soon as they see it.
  const configFile = importFrom(def.imports ?? [], args)?.path ?? args.config;
  logger.info({ configFile: configFile ?? null, instance: instance ?? null }, 'started');
}
