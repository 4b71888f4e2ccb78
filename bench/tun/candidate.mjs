// One TUN I/O candidate of the benchmark, run by run.mjs inside the benchmark namespace (never alone).
//   node candidate.mjs <candidate> tun2udp <tun> <seconds>         read TUN, send each packet as UDP to 10.74.0.2:9
//   node candidate.mjs <candidate> udp2tun <tun> <seconds> <port>  receive UDP on 127.0.0.1:<port>, write TUN
// Prints "ready" once the device is attached. tun2udp then waits for a line on stdin (run.mjs has filled the
// TUN queue meanwhile), drains it and reports first-to-last packet; udp2tun counts for <seconds> after the first
// packet + 300 ms. Output: {"packets","seconds","cpu"} (cpu: % of one core, all threads included).
//
// Candidates: fs-read (npm `ioctl` for TUNSETIFF + fs.read), read-stream (fs.createReadStream), koffi
// (libc read/write through the koffi FFI, reads on the libuv pool), worker (a worker thread doing non-blocking
// readSync in a loop, posting batches), addon-1 / addon-64 (the project's TunDevice, src/io/tun-linux.ts,
// batch size 1 or 64). For udp2tun: fs-write-sync, fs-write, koffi, addon.

import { createSocket } from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const [candidate, direction, tunName, secondsArg, portArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;

/** struct ifreq for TUNSETIFF: name[16], then short flags. */
function ifreq() {
  const req = Buffer.alloc(40);
  req.write(tunName, 0, 15, 'latin1');
  req.writeUInt16LE(IFF_TUN | IFF_NO_PI, 16);
  return req;
}

/** /dev/net/tun attached with the npm `ioctl` addon (what fs-based candidates need: Node has no ioctl). */
function openWithIoctl(flags = 'r+') {
  const ioctl = require('ioctl');
  const fd = fs.openSync('/dev/net/tun', flags);
  ioctl(fd, TUNSETIFF, ifreq());
  return fd;
}

function koffiLibc() {
  const koffi = require('koffi');
  const libc = koffi.load('libc.so.6');
  return {
    open: libc.func('int open(const char *path, int flags)'),
    ioctl: libc.func('int ioctl(int fd, unsigned long request, void *arg)'),
    read: libc.func('long read(int fd, void *buf, size_t count)'),
    write: libc.func('long write(int fd, void *buf, size_t count)'),
  };
}

function openWithKoffi(libc) {
  const fd = libc.open('/dev/net/tun', 2 /* O_RDWR */);
  if (fd < 0 || libc.ioctl(fd, TUNSETIFF, ifreq()) < 0) throw new Error('koffi: cannot attach TUN');
  return fd;
}

async function openAddon(batchSize) {
  const { openTun } = await import('../../dist/src/io/tun-linux.js');
  return openTun({ name: tunName, batchSize });
}

// ---- measurement ----
// tun2udp drains a queue the generator filled beforehand (no generator competing for the CPU): from the first
// to the last packet. udp2tun needs a live generator: a window that starts 300 ms after the first packet.
let count = 0;
let first = 0n;
let last = 0n;
let cpuFirst;
const report = (packets, wall, cpu) => {
  const line = { packets, seconds: wall, cpu: (100 * (cpu.user + cpu.system)) / 1e6 / wall };
  process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(0));
};

function drained() {
  count++;
  last = process.hrtime.bigint();
  if (first !== 0n) return;
  first = last;
  cpuFirst = process.cpuUsage();
  let seen = 0;
  const idle = setInterval(() => {
    if (count !== seen) {
      seen = count;
      return;
    }
    clearInterval(idle);
    report(count, Number(last - first) / 1e9, process.cpuUsage(cpuFirst));
  }, 200);
}

let windowStarted = false;
function windowed() {
  count++;
  if (windowStarted) return;
  windowStarted = true;
  setTimeout(() => {
    const c0 = count;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    setTimeout(() => report(count - c0, Number(process.hrtime.bigint() - t0) / 1e9, process.cpuUsage(cpu0)), seconds * 1000);
  }, 300);
}

/** Resolves when run.mjs writes a line to stdin (after it has filled the TUN queue). */
const go = () => new Promise((resolve) => process.stdin.once('data', resolve));

// ---- TUN -> UDP ----
async function tunToUdp() {
  const udp = createSocket('udp4');
  const send = (packet) => {
    udp.send(packet, 9, '10.74.0.2');
    drained();
  };
  let start;
  switch (candidate) {
    case 'fs-read': {
      const fd = openWithIoctl();
      const buf = Buffer.alloc(2048);
      const loop = () =>
        fs.read(fd, buf, 0, buf.length, null, (err, n) => {
          if (err) throw err;
          send(Buffer.from(buf.subarray(0, n)));
          loop();
        });
      start = loop;
      break;
    }
    case 'read-stream': {
      const fd = openWithIoctl();
      start = () => fs.createReadStream('', { fd, highWaterMark: 2048, autoClose: false }).on('data', send);
      break;
    }
    case 'koffi': {
      const libc = koffiLibc();
      const fd = openWithKoffi(libc);
      const buf = Buffer.alloc(2048);
      const loop = () =>
        libc.read.async(fd, buf, buf.length, (err, n) => {
          if (err) throw err;
          send(Buffer.from(buf.subarray(0, Number(n))));
          loop();
        });
      start = loop;
      break;
    }
    case 'worker': {
      const fd = openWithIoctl(fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
      start = () => {
        const worker = new Worker(new URL('./read-worker.mjs', import.meta.url), { workerData: { fd } });
        worker.on('message', ({ data, lengths }) => {
          const bytes = Buffer.from(data);
          let offset = 0;
          for (const n of lengths) {
            send(bytes.subarray(offset, offset + n));
            offset += n;
          }
        });
      };
      break;
    }
    case 'addon-1':
    case 'addon-64': {
      const tun = await openAddon(candidate === 'addon-1' ? 1 : 64);
      start = () => tun.onPacket(send);
      break;
    }
    default:
      throw new Error(`unknown tun2udp candidate ${candidate}`);
  }
  process.stdout.write('ready\n');
  await go();
  start();
}

// ---- UDP -> TUN ----
async function udpToTun() {
  let write;
  switch (candidate) {
    case 'fs-write-sync': {
      const fd = openWithIoctl();
      write = (p) => fs.writeSync(fd, p) > 0;
      break;
    }
    case 'fs-write': {
      const fd = openWithIoctl();
      write = (p) => {
        fs.write(fd, p, (err) => {
          if (err) throw err;
          windowed(); // counted when the pool thread has written it, not when queued
        });
        return false;
      };
      break;
    }
    case 'koffi': {
      const libc = koffiLibc();
      const fd = openWithKoffi(libc);
      write = (p) => libc.write(fd, p, p.length) > 0;
      break;
    }
    case 'addon': {
      const tun = await openAddon(64);
      tun.onError(() => {});
      write = (p) => tun.write(p);
      break;
    }
    default:
      throw new Error(`unknown udp2tun candidate ${candidate}`);
  }
  const udp = createSocket('udp4');
  udp.on('message', (msg) => {
    if (write(msg)) windowed();
  });
  await new Promise((resolve) => udp.bind(Number(portArg), '127.0.0.1', resolve));
  process.stdout.write('ready\n');
}

await (direction === 'tun2udp' ? tunToUdp() : udpToTun());
