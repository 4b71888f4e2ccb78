// Memory per peer of the Teredo peer table (src/engine/teredo/peers/peer-table.ts): fills a table with N distinct
// Teredo peers (half of them trusted, each with a mapping and a nonce, no queued packets) and reports the growth
// of the V8 heap + ArrayBuffer memory, and the insert and lookup cost; and what a flood of spoofed embedded
// peers grows a default table to. Printed, never asserted.
//
//   npm run build && node --expose-gc bench/teredo-relay/peer-table-memory.mjs [--peers 100000,1048576]

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modulePath = join(root, 'dist', 'src', 'engine', 'teredo', 'peers', 'peer-table.js');
if (!existsSync(modulePath) || typeof globalThis.gc !== 'function') {
  console.error('bench/teredo-relay/peer-table-memory: run `npm run build` first, and node --expose-gc');
  process.exit(2);
}
const { PeerTable, PEER_TABLE_BYTES_PER_PEER } = await import(modulePath);
const { PEER_EMBEDDED, PEER_PENDING } = await import(join(root, 'dist', 'src', 'engine', 'teredo', 'peers', 'peer-classes.js'));
const { seededRandom } = await import(join(root, 'dist', 'src', 'engine', 'types.js'));

const arg = process.argv.indexOf('--peers');
const counts = (arg > 0 ? process.argv[arg + 1] : '100000,1048576').split(',').map(Number);

function used() {
  globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Peer i's Teredo address: 2001:0:c000:201:0:<~port>:<~ipv4> with a distinct mapping per i. */
function address(i, out) {
  out.set([0x20, 0x01, 0, 0, 0xc0, 0, 0x02, 0x01, (i * 7) & 0x3c, i & 0xff]);
  const port = (1024 + (i & 0xffff)) ^ 0xffff;
  const v4 = ~(0x0b000000 + (i >>> 16)) >>> 0;
  out[10] = port >>> 8;
  out[11] = port & 0xff;
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 0xff;
  out[14] = (v4 >>> 8) & 0xff;
  out[15] = v4 & 0xff;
}

// A flood of spoofed §5.4.2 (b) peers into a default-sized table: they stay in the embedded pool (maxPeers / 8),
// so the arrays grow to that pool and no further, whatever the flood's length. First, with nothing else on the heap.
{
  const FLOOD = 2_000_000;
  const before = used();
  const t = new PeerTable({ random: seededRandom(2) });
  const a = new Uint8Array(16);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < FLOOD; i++) {
    address(i, a);
    if (t.find(a, 0) < 0) t.insert(a, 0, 0, PEER_EMBEDDED);
  }
  const t1 = process.hrtime.bigint();
  const after = used();
  console.log(
    `flood of ${FLOOD} embedded peers into maxPeers ${t.maxPeers}: size ${t.size} (embedded ${t.classSize(PEER_EMBEDDED)}), ` +
      `${((after - before) / 2 ** 20).toFixed(1)} MiB, ${(Number(t1 - t0) / FLOOD).toFixed(0)} ns per spoofed peer`,
  );
}

console.log(`typed-array bytes per slot (PEER_TABLE_BYTES_PER_PEER): ${PEER_TABLE_BYTES_PER_PEER} + 8..16 index`);
for (const n of counts) {
  const before = used();
  const t = new PeerTable({ random: seededRandom(1), maxPeers: Math.max(n, 1) });
  const a = new Uint8Array(16);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    address(i, a);
    const s = t.insert(a, 0, 0, PEER_PENDING);
    t.setMapping(s, 0x0b000000 + (i >>> 16), 1024 + (i & 0xffff));
    t.setNonce(s, i, ~i >>> 0);
    if (i % 2 === 0) {
      t.setTrusted(s, true, 0);
      t.prove(s, 0);
    }
  }
  const t1 = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < n; i++) {
    address(i, a);
    if (t.find(a, 0) >= 0) found++;
  }
  const t2 = process.hrtime.bigint();
  const after = used();
  if (found !== n) throw new Error(`lookup lost peers: ${found}/${n}`);
  const per = (after - before) / n;
  console.log(
    `${n} peers: ${(after - before) / 2 ** 20 | 0} MiB, ${per.toFixed(1)} bytes/peer; ` +
      `insert ${(Number(t1 - t0) / n).toFixed(0)} ns, lookup ${(Number(t2 - t1) / n).toFixed(0)} ns per peer (size ${t.size})`,
  );
}

