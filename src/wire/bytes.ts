// Bounds-checked big-endian cursor over a Uint8Array: the one place decoders check lengths
// (smoltcp's check_len idea). Every read past the end throws WireError('WIRE_TRUNCATED').

import { WireError } from './errors.js';

export class ByteReader {
  readonly #view: DataView;
  #offset: number;

  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
    readonly what = 'packet',
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offset = offset;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.bytes.length - this.#offset;
  }

  need(n: number): void {
    if (n < 0 || this.#offset + n > this.bytes.length) {
      throw new WireError('WIRE_TRUNCATED', `${this.what}: need ${n} bytes at offset ${this.#offset}, have ${this.remaining}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.#view.getUint8(this.#offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return v;
  }

  /** A zero-copy view of the next n bytes. Copy it if you keep it: receive buffers are reused. */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }

  rest(): Uint8Array {
    return this.bytesView(this.remaining);
  }

  skip(n: number): void {
    this.need(n);
    this.#offset += n;
  }
}

export class ByteWriter {
  readonly #view: DataView;
  #offset: number;

  /** Writes into `out` from `offset`; throws RangeError (a programming error, not bad input) on overflow. */
  constructor(
    readonly out: Uint8Array,
    offset = 0,
  ) {
    this.#view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    this.#offset = offset;
  }

  get offset(): number {
    return this.#offset;
  }

  u8(v: number): this {
    this.#view.setUint8(this.#offset, v);
    this.#offset += 1;
    return this;
  }

  u16(v: number): this {
    this.#view.setUint16(this.#offset, v);
    this.#offset += 2;
    return this;
  }

  u32(v: number): this {
    this.#view.setUint32(this.#offset, v >>> 0);
    this.#offset += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    if (this.#offset + b.length > this.out.length) throw new RangeError('ByteWriter overflow');
    this.out.set(b, this.#offset);
    this.#offset += b.length;
    return this;
  }

  zeros(n: number): this {
    if (this.#offset + n > this.out.length) throw new RangeError('ByteWriter overflow');
    this.out.fill(0, this.#offset, this.#offset + n);
    this.#offset += n;
    return this;
  }
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new WireError('WIRE_BAD_VALUE', `not hex: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
