#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// teredo-client: the Teredo client agent (RFC 4380 §5.2, RFC 5991) and its address tools.
//
//   teredo-client --server <IPv4 or name> [--secondary-server IPv4] [--interface NAME] [--port N]
//                 [--bind-address IPv4] [--default-route auto|on|off] [--qualification fast|strict]
//                 [--hook PROGRAM] [--miredo-conf FILE] [--config FILE] [--log-level L] [--check-config]
//   teredo-client status [--json] [--instance NAME]
//   teredo-client decode <ipv6> [--json] | encode --server ... (address-commands.ts)
//
// The run mode is the declaration in agent.ts on the shared runtime (src/runtime/cli.ts: config file + flags,
// --check-config, pino logs, SIGHUP reload, SIGTERM/SIGINT clean stop, control socket for `status`). decode and encode are self-contained
// yargs commands. Exit codes: 0 ok; 1 start-up failure; 2 usage (and bad decode/encode input); 3 `status`
// found no client in this network namespace.

import { runAgentMain } from '../../src/runtime/cli.js';
import { WireError } from '../../src/wire/errors.js';
import { CliUsageError, decodeCommand, encodeCommand } from './address-commands.js';
import { teredoClient } from './agent.js';

const EXIT_USAGE = 2;

/** decode / encode: the address tools, unchanged since before the run mode existed. */
async function addressTool(): Promise<void> {
  // Imported here: a plain start does without yargs (src/runtime/cli.ts plainStart).
  const [{ default: yargs }, { hideBin }] = await Promise.all([import('yargs'), import('yargs/helpers')]);
  try {
    await yargs(hideBin(process.argv))
      .scriptName('teredo-client')
      .command(decodeCommand)
      .command(encodeCommand)
      .demandCommand(1, 'a command is required (decode, encode); see --help')
      .strict()
      .version(false)
      .help()
      // yargs reports its own validation failures (missing or unknown options, failed coercions) here; they are
      // usage errors too. Throwing moves them to the one catch below.
      .fail((message: string | undefined, err: Error | undefined) => {
        throw new CliUsageError(message ?? err?.message ?? 'invalid command line');
      })
      .parseAsync();
  } catch (err) {
    if (!(err instanceof CliUsageError || err instanceof WireError)) throw err;
    process.stderr.write(`teredo-client: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
  }
}

/** A first word that is neither a flag nor a command, or nothing at all: one line, exit 2. */
function usageProblem(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return 'nothing to do: run the client with --server (see --help), or use a command: status, decode, encode';
  const first = argv[0]!;
  if (!first.startsWith('-') && !['status', 'decode', 'encode'].includes(first)) return `unknown command ${JSON.stringify(first)} (commands: status, decode, encode; see --help)`;
  return undefined;
}

const argv = process.argv.slice(2);
const problem = usageProblem(argv);
if (problem !== undefined) {
  process.stderr.write(`teredo-client: ${problem}\n`);
  process.exitCode = EXIT_USAGE;
} else if (argv[0] === 'decode' || argv[0] === 'encode') {
  await addressTool();
} else {
  await runAgentMain(teredoClient, { argv });
}
