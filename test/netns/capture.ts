// Packet captures for netns tests: tshark in a lab node, started before the action and stopped after it (once
// the test knows the action is over, e.g. an agent's counters show it handled the packets), so a packet that
// must not exist is looked for in a real capture rather than inferred from counters alone, with no time window.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Lab } from './lab.js';

const dir = mkdtempSync(join(tmpdir(), 'netns-cap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A running capture; stop() ends it (SIGINT: tshark writes out what it has) and gives the pcap file. */
export interface Capture {
  stop(): Promise<string>;
}

/** Starts tshark on `node`'s `iface` with a BPF capture filter; resolves once it captures. */
export async function capture(lab: Lab, node: string, iface: string, filter: string): Promise<Capture> {
  const pcap = join(dir, `${node}-${process.hrtime.bigint()}.pcapng`);
  const cap = lab.spawn(node, ['tshark', '-n', '-i', iface, '-f', filter, '-w', pcap]);
  const exited = new Promise<void>((resolve) => cap.on('exit', () => resolve()));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tshark did not start: ${stderr}`)), 10_000);
    cap.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('Capturing on')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return {
    stop: async () => {
      cap.kill('SIGINT');
      await exited;
      return pcap;
    },
  };
}

/** One line per captured packet: the given tshark fields, '|'-separated. */
export async function packets(lab: Lab, node: string, pcap: string, fields: string[], displayFilter = ''): Promise<string[]> {
  const r = await lab.execOk(node, ['tshark', '-n', '-r', pcap, ...(displayFilter ? ['-Y', displayFilter] : []), '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * BPF filter for Teredo bubbles (RFC 4380 §2.8: an IPv6 header, payload length 0, next header 59) in UDP, bare
 * or behind an origin indication (§5.1.1, 8 bytes starting 0x0000), whatever the ports.
 */
export const TEREDO_BUBBLE_FILTER =
  'udp and ((udp[8] & 0xf0 = 0x60 and udp[12:2] = 0 and udp[14] = 59) or (udp[8:2] = 0 and udp[16] & 0xf0 = 0x60 and udp[20:2] = 0 and udp[22] = 59))';
