// `teredo-client decode` and `teredo-client encode`: the Teredo address (RFC 4380 §4, RFC 5991 flags) as a
// user-facing tool. decode shows what an address embeds (server, flags, the client's public mapping);
// encode builds one from those parts. All parsing and layout is in src/wire/teredo-address.ts; this file only
// validates command-line values and formats results. Bad values throw CliUsageError or WireError, which
// main.ts turns into a one-line message and exit code 2.

import type { Argv, CommandModule } from 'yargs';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { TEREDO_RANDOM_MAX, decodeTeredoAddress, encodeTeredoAddress, isTeredo, type TeredoAddress } from '../../src/wire/teredo-address.js';

/** A command-line value that is wrong in a way the user can fix; main.ts exits with code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  readonly code = 'CLI_USAGE';
}

/** The JSON form of a decoded address (`decode --json`): addresses as text, numbers as numbers. */
interface DecodedAddressJson {
  readonly address: string;
  readonly server: string;
  readonly flags: number;
  readonly flagsHex: string;
  readonly cone: boolean;
  readonly randomBits: number;
  readonly mappedPort: number;
  readonly mappedAddress: string;
}

function decodedAddressJson(address: Uint8Array, a: TeredoAddress): DecodedAddressJson {
  return {
    address: formatIpv6(address),
    server: formatIpv4(a.server),
    flags: a.flags,
    flagsHex: hex16(a.flags),
    cone: a.cone,
    randomBits: a.randomBits,
    mappedPort: a.mappedPort,
    mappedAddress: formatIpv4(a.mappedAddr),
  };
}

/** The human form: one field per line, aligned. */
function formatDecodedAddress(j: DecodedAddressJson): string {
  const random = `0x${j.randomBits.toString(16).padStart(3, '0')}`;
  return [
    `Teredo address  ${j.address}`,
    `server          ${j.server}`,
    `flags           ${j.flagsHex} (cone: ${j.cone ? 'yes' : 'no'}, random bits: ${random})`,
    `mapped port     ${j.mappedPort}`,
    `mapped IPv4     ${j.mappedAddress}`,
  ].join('\n');
}

/** Parses and decodes the `decode` argument; throws WireError for non-IPv6 text, CliUsageError for non-Teredo. */
function decodeAddressArg(text: string): DecodedAddressJson {
  const address = parseIpv6(text.trim());
  if (!isTeredo(address)) throw new CliUsageError(`not a Teredo address (outside 2001:0::/32): ${formatIpv6(address)}`);
  return decodedAddressJson(address, decodeTeredoAddress(address));
}

interface DecodeArgs {
  ipv6: string;
  json: boolean;
}

export const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: 'decode <ipv6>',
  describe: 'Show the server, flags and public mapping embedded in a Teredo address',
  builder: (y: Argv) =>
    y
      .positional('ipv6', { type: 'string', demandOption: true, describe: 'a Teredo address (2001:0::/32)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }),
  handler: (args) => {
    const decoded = decodeAddressArg(args.ipv6);
    process.stdout.write(`${args.json ? JSON.stringify(decoded) : formatDecodedAddress(decoded)}\n`);
  },
};

/** As declared (kebab-case); yargs hands the handler the camelCase form too. */
interface EncodeArgs {
  server: number;
  'mapped-ip': number;
  'mapped-port': number;
  cone: boolean;
  'random-bits': number;
}

export const encodeCommand: CommandModule<object, EncodeArgs> = {
  command: 'encode',
  describe: 'Build a Teredo address from a server IPv4 address and a public mapping',
  builder: (y: Argv) =>
    y
      .option('server', { type: 'string', demandOption: true, describe: 'Teredo server IPv4 address', coerce: ipv4Option('--server') })
      .option('mapped-ip', { type: 'string', demandOption: true, describe: "client's public IPv4 address", coerce: ipv4Option('--mapped-ip') })
      .option('mapped-port', { type: 'string', demandOption: true, describe: "client's public UDP port", coerce: intOption('--mapped-port', 0, 0xffff) })
      .option('cone', { type: 'boolean', default: false, describe: 'set the cone flag' })
      .option('random-bits', { type: 'string', default: '0', describe: 'the 12 random flag bits, 0..4095 or 0x0..0xfff', coerce: intOption('--random-bits', 0, TEREDO_RANDOM_MAX) }),
  handler: (args) => {
    const address = encodeTeredoAddress({ server: args.server, cone: args.cone, randomBits: args.randomBits, mappedPort: args.mappedPort, mappedAddr: args.mappedIp });
    process.stdout.write(`${formatIpv6(address)}\n`);
  },
};

function ipv4Option(name: string): (text: string) => number {
  return (text) => {
    try {
      return parseIpv4(String(text).trim());
    } catch {
      throw new CliUsageError(`${name}: not an IPv4 address: ${JSON.stringify(text)}`);
    }
  };
}

/** Decimal or 0x-prefixed hexadecimal integers in [min, max]; anything else is a usage error. */
function intOption(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const s = String(text).trim();
    const v = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(v >= min && v <= max)) throw new CliUsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return v;
  };
}

function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}
