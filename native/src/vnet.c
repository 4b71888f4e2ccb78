/* virtio-net superframes: cutting on read, merging for write (see vnet.h). */
#include "vnet.h"

#include <string.h>

#define NH_TCP 6
#define NH_UDP 17
#define GSO_TCPV6 4
#define GSO_UDP_L4 5
#define F_NEEDS_CSUM 1
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}
/* virtio header fields are little-endian (the TUN default without TUNSETVNETBE, on a little-endian host). */
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

void vnet_hdr_read(const uint8_t *p, vnet_hdr_t *h) {
  h->flags = p[0];
  h->gso_type = p[1];
  h->hdr_len = le16(p + 2);
  h->gso_size = le16(p + 4);
  h->csum_start = le16(p + 6);
  h->csum_offset = le16(p + 8);
}

void vnet_hdr_write(uint8_t *p, const vnet_hdr_t *h) {
  p[0] = h->flags;
  p[1] = h->gso_type;
  put_le16(p + 2, h->hdr_len);
  put_le16(p + 4, h->gso_size);
  put_le16(p + 6, h->csum_start);
  put_le16(p + 8, h->csum_offset);
}

/*
 * RFC 1071 §2 (B): the one's-complement sum is the same whatever the byte order, so the words are added as the
 * host loads them, 4 bytes at a time into 64 bits (no carry is lost below 16 GiB), folded, and swapped once to
 * network order at the end; the old loop composed every 16-bit word from two bytes, 9 % of the relay's CPU
 * on 64-byte packets (docs/performance.md, issue 18).
 */
uint32_t vnet_sum(const uint8_t *p, size_t len, uint32_t sum) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4);
    s += w;
  }
  if (i + 2 <= len) {
    uint16_t w;
    memcpy(&w, p + i, 2);
    s += w;
    i += 2;
  }
  /* A last odd byte is the high byte of a big-endian word; where it is loaded, the low byte of a host one. */
  if (i < len) {
    uint16_t w = 0;
    memcpy(&w, p + i, 1);
    s += w;
  }
  while (s >> 16) s = (s & 0xffffu) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  s = ((s & 0xffu) << 8) | (s >> 8);
#endif
  s += sum;
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return (uint32_t)((s & 0xffffu) + (s >> 16)); /* at most 17 bits + carry: still fits a fold later */
}

uint16_t vnet_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t)sum;
}

uint32_t vnet_pseudo6(const uint8_t *ip6, uint32_t len, uint8_t next_header) {
  uint32_t sum = vnet_sum(ip6 + 8, 32, 0); /* source and destination */
  return sum + (len >> 16) + (len & 0xffffu) + next_header;
}

/* IPv6 without extension headers carrying TCP or UDP: the header length (IPv6 + L4) or 0. */
static size_t l4_header(const uint8_t *p, size_t len) {
  if (len < 48 || p[0] >> 4 != 6) return 0;
  if (p[6] == NH_UDP) return 48;
  if (p[6] != NH_TCP || len < 60) return 0;
  size_t thl = (size_t)(p[52] >> 4) * 4;
  return thl >= 20 && 40 + thl <= len ? 40 + thl : 0;
}

/* Writes the complement checksum of the L4 segment at pkt[40..len) into its checksum field. */
static void l4_checksum(uint8_t *pkt, size_t len, uint8_t nh) {
  size_t at = 40 + (nh == NH_TCP ? 16 : 6);
  put16(pkt + at, 0);
  uint16_t c = (uint16_t)~vnet_fold(vnet_sum(pkt + 40, len - 40, vnet_pseudo6(pkt, (uint32_t)(len - 40), nh)));
  if (nh == NH_UDP && c == 0) c = 0xffff; /* RFC 8200 §8.1: a UDP checksum of zero is sent as all ones */
  put16(pkt + at, c);
}

/* The frame whole; a partial checksum (NEEDS_CSUM: the pseudo-header sum is in the field) completed. */
static int pass_through(const uint8_t *frame, size_t len, const vnet_hdr_t *h, uint8_t *out, size_t cap, uint32_t *lens) {
  if (len > cap) return -1;
  memcpy(out, frame, len);
  if (h->flags & F_NEEDS_CSUM) {
    size_t at = (size_t)h->csum_start + h->csum_offset;
    if (h->csum_start >= len || at + 2 > len) return -1;
    put16(out + at, (uint16_t)~vnet_fold(vnet_sum(out + h->csum_start, len - h->csum_start, 0)));
  }
  lens[0] = (uint32_t)len;
  return 1;
}

int vnet_segment(const uint8_t *frame, size_t len, const vnet_hdr_t *h, uint8_t *out, size_t cap, uint32_t *lens, int max) {
  uint8_t type = h->gso_type & 0x7f;
  if (max < 1) return -1;
  if (type == 0 || h->gso_size == 0) return pass_through(frame, len, h, out, cap, lens);
  size_t hl = l4_header(frame, len);
  uint8_t nh = frame[6];
  if (hl == 0 || (type == GSO_TCPV6) != (nh == NH_TCP) || (type != GSO_TCPV6 && type != GSO_UDP_L4)) return -1;
  size_t payload = len - hl, g = h->gso_size;
  size_t n = (payload + g - 1) / g;
  if (n == 0) return pass_through(frame, len, h, out, cap, lens);
  if (n > (size_t)max || payload + n * hl > cap) return -1;
  uint32_t seq = nh == NH_TCP ? get32(frame + 44) : 0;
  uint8_t flags = nh == NH_TCP ? frame[53] : 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    size_t chunk = i + 1 < n ? g : payload - i * g;
    uint8_t *pkt = out + at;
    memcpy(pkt, frame, hl);
    memcpy(pkt + hl, frame + hl + i * g, chunk);
    put16(pkt + 4, (uint16_t)(hl - 40 + chunk));
    if (nh == NH_TCP) {
      put32(pkt + 44, seq + (uint32_t)(i * g));
      uint8_t f = flags;
      if (i + 1 < n) f &= (uint8_t)~(TCP_FIN | TCP_PSH);
      if (i > 0) f &= (uint8_t)~TCP_CWR;
      pkt[53] = f;
    } else {
      put16(pkt + 44, (uint16_t)(8 + chunk));
    }
    l4_checksum(pkt, hl + chunk, nh);
    lens[i] = (uint32_t)(hl + chunk);
    at += hl + chunk;
  }
  return (int)n;
}

/*
 * A packet that may start or join a merged write: its L4 header length (TCP 20-60, UDP 8), or 0. TCP only
 * with ACK (and PSH) set, UDP only with a non-zero checksum; either only when its checksum verifies.
 */
static size_t mergeable(const uint8_t *p, size_t len, int kinds) {
  size_t hl = l4_header(p, len);
  if (hl == 0 || get16(p + 4) != len - 40 || len == hl) return 0;
  if (p[6] == NH_TCP) {
    if (!(kinds & VNET_MERGE_TCP) || p[53] & ~(TCP_ACK | TCP_PSH) || !(p[53] & TCP_ACK)) return 0;
  } else if (!(kinds & VNET_MERGE_UDP) || get16(p + 44) != len - 40 || get16(p + 46) == 0) {
    return 0;
  }
  if (vnet_fold(vnet_sum(p + 40, len - 40, vnet_pseudo6(p, (uint32_t)(len - 40), p[6]))) != 0xffff) return 0;
  return hl - 40;
}

/*
 * Whether q follows p in one flow: the same IPv6 header but the length; for UDP the same ports, for TCP the
 * same header but sequence number, PSH and checksum.
 */
static int same_flow(const uint8_t *p, const uint8_t *q, size_t l4) {
  if (memcmp(p, q, 4) != 0 || memcmp(p + 6, q + 6, 34) != 0 || memcmp(p + 40, q + 40, 4) != 0) return 0;
  if (p[6] == NH_UDP) return 1;
  if (memcmp(p + 48, q + 48, 5) != 0) return 0;                                          /* ack, offset */
  if ((p[53] | TCP_PSH) != (q[53] | TCP_PSH) || memcmp(p + 54, q + 54, 2) != 0) return 0; /* flags, window */
  return memcmp(p + 58, q + 58, l4 - 18) == 0;                                           /* urgent ptr, options */
}

static uint32_t len_at(const uint8_t *meta, size_t stride, int i) {
  uint32_t len;
  memcpy(&len, meta + (size_t)i * stride, 4);
  return len;
}

int vnet_coalesce(const uint8_t *data, size_t dlen, const uint8_t *meta, size_t stride, int count, int kinds, uint8_t *hdr, struct iovec *iov, int *iovcnt) {
  size_t len = len_at(meta, stride, 0);
  if (count < 1 || len > dlen) return -1;
  vnet_hdr_t vh = {0};
  size_t l4 = mergeable(data, len, kinds);
  int tcp = data[len > 6 ? 6 : 0] == NH_TCP;
  size_t g = len - 40 - l4, total = g, at = len;
  int n = 1;
  iov[0] = (struct iovec){.iov_base = hdr, .iov_len = VNET_HDR_LEN};
  iov[1] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
  uint8_t last_flags = tcp ? data[53] : 0;
  while (l4 > 0 && !(last_flags & TCP_PSH) && n < count && n < VNET_MAX_MERGE) {
    size_t qlen = len_at(meta, stride, n);
    if (qlen > dlen - at) return -1;
    const uint8_t *q = data + at;
    size_t qp = qlen - 40 - l4;
    if (mergeable(q, qlen, kinds) != l4 || !same_flow(data, q, l4) || qp > g || l4 + total + qp > 65535) break;
    if (tcp && get32(q + 44) != get32(data + 44) + (uint32_t)total) break;
    iov[n + 1] = (struct iovec){.iov_base = (void *)(q + 40 + l4), .iov_len = qp};
    total += qp;
    at += qlen;
    last_flags = tcp ? q[53] : 0;
    n++;
    if (qp < g) break; /* only the last segment may be short */
  }
  if (n > 1) {
    uint8_t nh = tcp ? NH_TCP : NH_UDP;
    uint16_t csum_at = tcp ? 16 : 6;
    vh = (vnet_hdr_t){.flags = F_NEEDS_CSUM, .gso_type = tcp ? GSO_TCPV6 : GSO_UDP_L4, .hdr_len = (uint16_t)(40 + l4), .gso_size = (uint16_t)g, .csum_start = 40, .csum_offset = csum_at};
    uint8_t *ip = hdr + VNET_HDR_LEN;
    memcpy(ip, data, 40 + l4);
    put16(ip + 4, (uint16_t)(l4 + total));
    if (tcp) ip[53] = (uint8_t)((ip[53] & ~TCP_PSH) | (last_flags & TCP_PSH));
    else put16(ip + 44, (uint16_t)(l4 + total));
    put16(ip + 40 + csum_at, vnet_fold(vnet_pseudo6(ip, (uint32_t)(l4 + total), nh))); /* partial: the kernel completes it */
    iov[0].iov_len = VNET_HDR_LEN + 40 + l4;
    iov[1].iov_base = (void *)(data + 40 + l4);
    iov[1].iov_len = g;
  }
  vnet_hdr_write(hdr, &vh);
  *iovcnt = n + 1;
  return n;
}
