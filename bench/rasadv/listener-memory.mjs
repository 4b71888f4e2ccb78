// Memory of the rasadv listener table (src/engine/rasadv/listener.ts) under a flood of advertisements from
// distinct (spoofed) senders, in memory with a fake clock: per scenario, N datagrams through the engine, then
// the V8 heap before/after (after a full GC), the table's charged bytes, evictions and drops by reason. A second
// part fills a table that never evicts, to compare the real heap per entry with what an entry is charged
// (LISTENER_ENTRY_BYTES + 2 bytes per character of text). Printed, never asserted.
//
//   npm run build && node --expose-gc bench/rasadv/listener-memory.mjs [--count 1000000] [--fill 100000]

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modulePath = join(root, 'dist', 'src', 'engine', 'rasadv', 'listener.js');
if (!existsSync(modulePath) || typeof globalThis.gc !== 'function') {
  console.error('bench/rasadv/listener-memory: run `npm run build` first, and node --expose-gc');
  process.exit(2);
}
const { RasAdvListenerTable, LISTENER_DROP_REASONS, LISTENER_ENTRY_MAX_BYTES } = await import(modulePath);

const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const COUNT = option('--count', 1_000_000);
const FILL = option('--fill', 100_000);
const MiB = (n) => `${(n / 1048576).toFixed(1)} MiB`;

function used() {
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const ascii = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/**
 * A datagram template whose first 8 bytes after "Hostname=" are rewritten per sender (hex of i), so every
 * advertisement is a distinct server; `rest` is what follows those 8 bytes up to and including the NUL.
 */
function template(hostTail, rest) {
  const bytes = ascii(`Hostname=00000000${hostTail}${rest}`);
  return (i) => {
    for (let k = 0; k < 8; k++) bytes[9 + k] = '0123456789abcdef'.charCodeAt((i >>> (28 - 4 * k)) & 15);
    return bytes;
  };
}
const nonAscii = (n) => String.fromCharCode(0xc3, 0xa9).repeat(n / 2); // "é" in UTF-8, n bytes
/** After the host name: a 253-byte domain, 5 unknown lines, a sixth padded so the text is 512 bytes (8 lines). */
function worstRest() {
  const lines = `\nDomain=${nonAscii(252)}x\n` + Array.from({ length: 5 }, (_, k) => `K${k}=${nonAscii(20)}\n`).join('');
  const used = 'Hostname='.length + 63 + lines.length;
  return `${lines}P=${'p'.repeat(512 - used - 3)}\n\0`;
}
const SCENARIOS = {
  // §2.2.1 at its bounds: a 63-byte host name and a 253-byte domain (334 bytes of text).
  'maximal names': template('h'.repeat(55), `\nDomain=${'d'.repeat(253)}\n\0`),
  // The costliest entry the bounds allow: 8 lines, 512 bytes of text, non-ASCII (a two-byte string).
  'worst entry': template(nonAscii(54) + 'h', worstRest()),
  // The most objects per byte of text: 8 lines, 6 of them unknown one-letter keys with one-letter values.
  'eight short lines': template('', `\nDomain=d\n${Array.from({ length: 6 }, (_, k) => `${'abcdef'[k]}=${k}\n`).join('')}\0`),
  // What the issue measured: huge names, each dropped (the host name over 63 bytes, the text over 512).
  'oversized host name (100 bytes)': template('h'.repeat(92), '\n\0'),
  'oversized text (60,000 bytes)': template('h'.repeat(40), `\nDomain=${'d'.repeat(60_000)}\n\0`),
};

const sink = () => {
  const s = { evictions: 0, drops: new Array(LISTENER_DROP_REASONS.length).fill(0) };
  return Object.assign(s, { drop: (r) => s.drops[r]++, advertisement: () => {}, stale: () => {}, evicted: () => s.evictions++ });
};
const dropText = (drops) => drops.map((n, r) => (n ? `${LISTENER_DROP_REASONS[r]} ${n}` : '')).filter(Boolean).join(', ') || 'none';

/** N advertisements from distinct senders through a fresh table; the heap is measured while the table lives. */
function run(datagram, count, maxEntries) {
  const len = datagram(0).length;
  const before = used();
  const t = new RasAdvListenerTable({ staleAfterMs: 7_200_000, maxEntries });
  const s = sink();
  for (let i = 0; i < count; i++) t.datagram(datagram(i), 0, len, 0x0a000000 + i, 50_000, i, s);
  const after = used();
  return { len, before, after, servers: t.stats().servers, bytes: t.bytes(), evictions: s.evictions, drops: s.drops };
}

console.log(`rasadv listener table, ${COUNT.toLocaleString('en')} advertisements per scenario, default bounds (1024 entries, ${(1024 * LISTENER_ENTRY_MAX_BYTES).toLocaleString('en')} bytes)`);
for (const [name, datagram] of Object.entries(SCENARIOS)) {
  const r = run(datagram, COUNT, 1024);
  console.log(`  ${name} (${r.len} bytes): heapUsed ${MiB(r.before)} -> ${MiB(r.after)} (+${MiB(r.after - r.before)}), table ${r.servers} entries charged ${r.bytes.toLocaleString('en')} bytes, evicted ${r.evictions}, dropped: ${dropText(r.drops)}`);
}
console.log(`  after all scenarios: heapUsed ${MiB(used())}`);

console.log(`heap per entry, ${FILL.toLocaleString('en')} entries, no eviction (real vs charged):`);
for (const name of ['maximal names', 'worst entry', 'eight short lines']) {
  const r = run(SCENARIOS[name], FILL, FILL);
  console.log(`  ${name}: ${Math.round((r.after - r.before) / FILL)} bytes per entry on the heap, charged ${Math.round(r.bytes / FILL)}`);
}

// The reverse DNS of `rasadv listen` (agents/rasadv/reverse-dns.ts) at its bounds: a full cache of names of the
// longest accepted length, and every waiting slot taken by a block holding a copy of a worst-case entry (what
// listen.ts's print() keeps until the name arrives), with a resolver that answers at once / never.
const { ReverseNames, REVERSE_DNS_BOUNDS: B } = await import(join(root, 'dist', 'agents', 'rasadv', 'reverse-dns.js'));
const clock = { now: () => 0 };
const timers = { setTimer: () => 0, clearTimer: () => {} };
const ip = (i) => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;

async function fullCache() {
  const before = used();
  const names = new ReverseNames({ reverse: async (a) => [`${a}.${'n'.repeat(253 - a.length - 1)}.`] }, clock, timers);
  for (let i = 0; i < B.MAX_ENTRIES; i += B.MAX_IN_FLIGHT) {
    for (let k = i; k < i + B.MAX_IN_FLIGHT; k++) names.withName(ip(k), () => {});
    await new Promise((r) => setImmediate(r));
  }
  const after = used();
  return { before, after, cached: names.stats().cached };
}

function fullWaiting() {
  const before = used();
  const t = new RasAdvListenerTable({ staleAfterMs: 7_200_000 });
  const datagram = SCENARIOS['worst entry'];
  for (let i = 0; i < B.MAX_WAITING; i++) t.datagram(datagram(i), 0, datagram(0).length, 0x0a000000 + i, 50_000, i, sink());
  const copies = t.servers(); // the table itself is dropped: only the blocks hold the entries now
  const names = new ReverseNames({ reverse: () => new Promise(() => {}) }, clock, timers);
  const held = [];
  copies.forEach((server, i) => names.withName(ip(i % B.MAX_IN_FLIGHT), () => held.push(server.hostname)));
  const after = used();
  return { before, after, waiting: copies.length, names };
}

const cache = await fullCache();
console.log(`reverse DNS cache, ${cache.cached} names of 253 bytes: heapUsed +${MiB(cache.after - cache.before)} (${Math.round((cache.after - cache.before) / cache.cached)} bytes per name)`);
const waiting = fullWaiting();
console.log(`reverse DNS waiting blocks, ${waiting.waiting} copies of the worst entry: heapUsed +${MiB(waiting.after - waiting.before)} (${Math.round((waiting.after - waiting.before) / waiting.waiting)} bytes per block)`);
