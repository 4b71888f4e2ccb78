// TCP transfers checked end to end for the netns tests: a receiver and a sender run as `node -e` scripts inside
// namespaces (each its own process, so the bytes cross the real network) and each prints the SHA-256 of what it
// received or sent; a test compares the two. The sender's data is pseudo-random from a fixed seed (no pattern a
// broken path could repeat by accident).

/**
 * Receives one TCP connection on host:port: prints {"listening":true}, then {"received":n} for each MiB, then
 * {"bytes":n,"sha256":...} at its end.
 */
export const TCP_RECEIVER = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port] = process.argv.slice(1);
const server = net.createServer((sock) => {
  const h = crypto.createHash('sha256');
  let n = 0;
  sock.on('data', (d) => {
    h.update(d);
    if (Math.floor((n + d.length) / 1048576) > Math.floor(n / 1048576)) console.log(JSON.stringify({ received: n + d.length }));
    n += d.length;
  });
  sock.on('end', () => { console.log(JSON.stringify({ bytes: n, sha256: h.digest('hex') })); server.close(); });
});
server.listen(Number(port), host, () => console.log(JSON.stringify({ listening: true })));`;

/**
 * Sends `total` pseudo-random bytes (seeded) to host:port over TCP and prints {"sent":n,"sha256":...}; with a
 * 4th argument, at most that many bytes per second (written every 50 ms), so a transfer lasts long enough for a
 * test to act in its middle.
 */
export const TCP_SENDER = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port, total, rate] = process.argv.slice(1);
const h = crypto.createHash('sha256');
let x = 12345, sent = 0, allowed = rate ? 0 : Infinity, waiting = false, ended = false;
const sock = net.connect(Number(port), host, () => {
  const pump = () => {
    if (waiting || ended) return;
    while (sent < Number(total) && sent < allowed) {
      const chunk = Buffer.alloc(Math.min(65536, Number(total) - sent, allowed - sent));
      for (let i = 0; i < chunk.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; chunk[i] = x >>> 24; }
      h.update(chunk);
      sent += chunk.length;
      if (!sock.write(chunk)) {
        waiting = true;
        return sock.once('drain', () => { waiting = false; pump(); });
      }
    }
    if (sent < Number(total)) return;
    ended = true;
    clearInterval(tick);
    sock.end(() => console.log(JSON.stringify({ sent, sha256: h.digest('hex') })));
  };
  const tick = rate ? setInterval(() => { allowed += Math.ceil(Number(rate) / 20); pump(); }, 50) : undefined;
  pump();
});`;
