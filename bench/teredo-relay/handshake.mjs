// Peer side of bench/teredo-relay/run.mjs: plays a Teredo server on <server>:3544 and two Teredo clients with
// mappings <server>:<gen port> and <sink>:<sink port>. When the relay's indirect bubble for a client arrives at
// the "server", the client answers with its own bubble from its mapping to the relay (RFC 4380 §5.2.3: a
// client answers a bubble relayed by its server), which makes the relay trust it. Prints {"listening":true},
// then {"answered":n} and exits once both clients answered or after 5 s.
//   node handshake.mjs <server ipv4> <sink ipv4> <gen port> <sink port>

import dgram from 'node:dgram';

const [server, sink, genPort, sinkPort] = process.argv.slice(2);
const clients = new Map();
const open = (addr, port) =>
  new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind({ address: addr, port: Number(port) }, () => resolve(s));
  });
const srv = await open(server, 3544);
clients.set(`${server}:${genPort}`, await open(server, genPort));
clients.set(`${sink}:${sinkPort}`, await open(sink, sinkPort));
const answered = new Set();
const done = () => {
  console.log(JSON.stringify({ answered: answered.size }));
  for (const s of [srv, ...clients.values()]) s.close();
};
const timer = setTimeout(done, 5000);
srv.on('message', (m, from) => {
  // A bubble: IPv6 header only; the client is named by the mapping in its destination (bytes 34-39).
  if (m.length < 40 || m[6] !== 59) return;
  const port = m.readUInt16BE(34) ^ 0xffff;
  const addr = [36, 37, 38, 39].map((i) => m[i] ^ 0xff).join('.');
  const key = `${addr}:${port}`;
  const sock = clients.get(key);
  if (!sock) return;
  const reply = Buffer.alloc(40);
  reply[0] = 0x60;
  reply[6] = 59;
  reply[7] = 255;
  m.copy(reply, 8, 24, 40); // source: the client's Teredo address
  m.copy(reply, 24, 8, 24); // destination: the relay's bubble source
  sock.send(reply, from.port, from.address);
  answered.add(key);
  if (answered.size === clients.size) {
    clearTimeout(timer);
    setTimeout(done, 100);
  }
});
console.log(JSON.stringify({ listening: true }));
