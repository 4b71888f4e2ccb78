#!/usr/bin/env node
// teredo-client: the command-line entry point of the Teredo client agent (RFC 4380 §5.2).
// Subcommands are yargs command modules, one file per group: address-commands.ts holds `decode` and `encode`;
// the client's run mode will be added here as another command.
// Exit codes: 0 success, 2 bad input (a one-line message on stderr); anything else is a bug and keeps its stack.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { WireError } from '../../src/wire/errors.js';
import { CliUsageError, decodeCommand, encodeCommand } from './address-commands.js';

const EXIT_USAGE = 2;

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
