// The relay engine's parameters as it uses them (relay.ts): the policy flags, the rate buckets and the ICMPv6
// error builder, rebuilt from TeredoRelayParams at start and on SIGHUP.

import { RateBuckets } from '../../rate-bucket.js';
import { UnreachableErrors } from '../unreachable.js';
import { DEFAULT_NEW_PEERS_PER_PREFIX, DEFAULT_UNANSWERED_RATE, type TeredoRelayParams } from './relay-types.js';

/** Buckets of the per-source-/64 limit on new pending peers (a power of two; 16 bytes each). */
export const PREFIX_BUCKETS = 1024;
/** Hop limit of the ICMPv6 errors sent to native hosts (IANA's default, as a host would send them). */
const ICMPV6_HOP_LIMIT = 64;

export interface RelayConfig {
  readonly honorConeBit: boolean;
  readonly directBubbles: boolean;
  readonly acceptUnknownPeers: boolean;
  /** Labs only: any unicast IPv4 passes where §5.2.4 asks for global unicast (isGlobalEndpoint4). */
  readonly allowNonGlobal: boolean;
}

export function resolveConfig(params: TeredoRelayParams): RelayConfig {
  return {
    honorConeBit: params.honorConeBit === true,
    directBubbles: params.directBubbles === true,
    acceptUnknownPeers: params.acceptUnknownPeers !== false,
    allowNonGlobal: params.allowNonGlobal === true,
  };
}

export function newPeersBuckets(params: TeredoRelayParams): RateBuckets {
  const rate = params.newPeersPerPrefix ?? DEFAULT_NEW_PEERS_PER_PREFIX;
  return new RateBuckets(PREFIX_BUCKETS, rate, Math.max(1, rate));
}

export function unansweredBucket(params: TeredoRelayParams): RateBuckets {
  const rate = params.unansweredPerSecond ?? DEFAULT_UNANSWERED_RATE;
  return new RateBuckets(1, rate, Math.max(1, rate));
}

export function icmpFor(params: TeredoRelayParams): UnreachableErrors {
  const rate = params.icmpv6RatePerSecond ?? 10;
  if (!Number.isInteger(rate) || rate < 0 || rate > 1_000_000) throw new RangeError(`icmpv6RatePerSecond must be an integer 0..1000000, got ${rate}`);
  if (params.icmpv6Source !== undefined && params.icmpv6Source.length !== 16) throw new RangeError('icmpv6Source must be a 16-byte IPv6 address');
  return new UnreachableErrors({ source: params.icmpv6Source, hopLimit: ICMPV6_HOP_LIMIT, perWindow: rate, windowMs: 1000 });
}
