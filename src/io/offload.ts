// Whether an adapter asks the kernel for offloads (issue 18; docs/performance.md "Kernel offloads"):
// virtio-net superframes on a TUN device (tun-linux.ts), UDP GSO/GRO on a native UDP socket
// (datagram-port-native.ts). On by default where the kernel has them; an explicit option wins, then the
// environment: TEREDO_TUN_OFFLOAD=0 / TEREDO_UDP_OFFLOAD=0 turn one off for every port of a process (the way
// to run an agent, a test or a benchmark on the plain path without a config field per agent).

export type OffloadKind = 'tun' | 'udp';

const VARIABLE: Record<OffloadKind, string> = { tun: 'TEREDO_TUN_OFFLOAD', udp: 'TEREDO_UDP_OFFLOAD' };

/** `explicit` when given; otherwise false only when the kind's variable is "0", "false", "no" or "off". */
export function offloadWanted(kind: OffloadKind, explicit?: boolean): boolean {
  if (explicit !== undefined) return explicit;
  const value = process.env[VARIABLE[kind]]?.trim().toLowerCase();
  return !(value === '0' || value === 'false' || value === 'no' || value === 'off');
}
