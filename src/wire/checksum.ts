// Internet checksum (RFC 1071) and the IPv6 pseudo-header (RFC 8200 §8.1) used by UDP and ICMPv6.

/** One's-complement sum of 16-bit words, folded to 16 bits, not inverted. `initial` chains partial sums. */
export function onesSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = data.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length & 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** onesSum of data[start .. end), chained on `initial`: the allocation-free form for received packets. */
export function onesSumRange(data: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  const last = start + ((end - start) & ~1);
  for (let i = start; i < last; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if ((end - start) & 1) sum += data[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Sum of the IPv6 pseudo-header: source, destination, upper-layer length, next header. */
export function ipv6PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, upperLength: number, nextHeader: number): number {
  let sum = onesSum(src);
  sum = onesSum(dst, sum);
  sum += (upperLength >>> 16) + (upperLength & 0xffff) + nextHeader;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Checksum of an upper-layer message (its checksum field must be zero, or the sum verifies to 0). */
export function ipv6UpperChecksum(src: Uint8Array, dst: Uint8Array, nextHeader: number, message: Uint8Array): number {
  const sum = onesSum(message, ipv6PseudoHeaderSum(src, dst, message.length, nextHeader));
  return ~sum & 0xffff;
}
