/*
 * virtio-net offload frames of a TUN device opened with IFF_VNET_HDR (pure C, no N-API: vnet.c).
 *
 * Read side: the kernel hands us "superframes", one IPv6 TCP (TSO) or UDP (USO) packet of up to 64 KiB with a
 * virtio_net_hdr saying how to cut it (gso_size = payload bytes per segment) and, with TUN_F_CSUM, a partial
 * checksum to complete. vnet_segment cuts one into the packets the wire would have carried.
 * Write side: vnet_coalesce groups consecutive full-size TCP segments (or UDP datagrams) of one flow (as
 * received from Teredo peers) into one superframe for ONE write(), the kernel cutting it again where it must (GRO, the path
 * wireguard-go's tun/offload_linux.go takes). Only IPv6 without extension headers is cut or merged; anything
 * else passes through unchanged.
 */
#ifndef TEREDO_IO_VNET_H
#define TEREDO_IO_VNET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VNET_HDR_LEN 10     /* struct virtio_net_hdr, the TUN default size (TUNSETVNETHDRSZ) */
#define VNET_MAX_SEGS 1024  /* segments per superframe we cut (TCP's minimum MSS 88 gives at most 745) */
#define VNET_MAX_HDR 100    /* IPv6 header (40) + the largest TCP header (60) */
#define VNET_SEG_OUT_MAX (65536 + VNET_MAX_SEGS * VNET_MAX_HDR) /* bytes vnet_segment may write at most */
#define VNET_MAX_MERGE 64   /* segments merged into one write at most */
#define VNET_MERGE_TCP 1    /* vnet_coalesce `kinds`: TCP segments (the device has TSO6) */
#define VNET_MERGE_UDP 2    /* UDP datagrams (the device has USO6, Linux 6.2) */

/* The fields of struct virtio_net_hdr in host order (the TUN default, little-endian on every host we run on). */
typedef struct {
  uint8_t flags;      /* VIRTIO_NET_HDR_F_NEEDS_CSUM = 1 */
  uint8_t gso_type;   /* 0 none, 4 TCPV6, 5 UDP_L4 (| 0x80 ECN) */
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
} vnet_hdr_t;

void vnet_hdr_read(const uint8_t *p, vnet_hdr_t *h);
void vnet_hdr_write(uint8_t *p, const vnet_hdr_t *h);

/* Internet checksum (RFC 1071) helpers: a 32-bit running sum, folded and complemented by the caller. */
uint32_t vnet_sum(const uint8_t *p, size_t len, uint32_t sum);
uint16_t vnet_fold(uint32_t sum);
/* Sum of the IPv6 pseudo-header (RFC 8200 §8.1) of packet `ip6` for an upper layer of `len` bytes. */
uint32_t vnet_pseudo6(const uint8_t *ip6, uint32_t len, uint8_t next_header);

/*
 * Cuts `frame` (len bytes, the packet after the virtio header `h`) into packets at `out` (room `cap`), one
 * length per packet in `lens` (room `max`). Every packet leaves with a complete checksum: a NEEDS_CSUM packet
 * has it completed, each TCP segment gets its own IPv6 payload length, sequence number, flags (FIN/PSH only on
 * the last, CWR only on the first) and checksum, each UDP segment its own length and checksum.
 * Returns the packet count (1 when the frame passes through whole: no GSO, not IPv6, extension headers),
 * or -1 when it does not fit in `cap` / `max` or the header lies about the frame (the caller drops it).
 */
int vnet_segment(const uint8_t *frame, size_t len, const vnet_hdr_t *h, uint8_t *out, size_t cap, uint32_t *lens, int max);

/*
 * One write's worth of packets from data[0..] (`count` packets back to back, packet i's length the u32 at
 * meta + i * stride): fills `hdr`
 * (VNET_HDR_LEN + up to VNET_MAX_HDR bytes: the virtio header, then for a merged group the rewritten IPv6+TCP
 * header) and `iov` (room VNET_MAX_MERGE + 2) for writev(), and returns how many packets it took (>= 1).
 * *iovcnt is set. TCP segments merge only when each one's checksum is valid (a damaged segment must reach the
 * kernel whole, to be dropped there), the flow, header fields and options match, the sequence numbers follow
 * on, every segment but the last is full size and none before the last carries PSH/FIN/SYN/RST/URG. UDP
 * datagrams of one flow (addresses, ports, IPv6 header fields) merge the same way into a UDP_L4 superframe,
 * one size but the last, each with a valid non-zero checksum. `kinds`: VNET_MERGE_TCP | VNET_MERGE_UDP.
 * `data` is not modified. Returns -1 when a length runs past `dlen`.
 */
int vnet_coalesce(const uint8_t *data, size_t dlen, const uint8_t *meta, size_t stride, int count, int kinds, uint8_t *hdr, struct iovec *iov, int *iovcnt);

/* tun-offload.c: one read(2) of a virtio-net TUN fd into packet records (see there); -1 + errno. */
int vnet_read(int fd, uint8_t *super, uint8_t *buf, size_t room, uint8_t *meta, size_t *bytes);

#endif
