/**
 * Deterministic hashes for FIFO queue selection, bit-for-bit compatible with RocketMQ 5's
 * proxy, which picks the queue of a message group as
 * `Hashing.consistentHash(messageGroup.hashCode(), writeQueues.size())` (Guava).
 *
 * - `javaStringHashCode`: Java's `String.hashCode`, s[0]*31^(n-1) + … + s[n-1] over UTF-16
 *   code units, in 32-bit two's complement.
 * - `consistentHash`: Guava's jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory,
 *   Consistent Hash Algorithm", 2014) driven by a 64-bit linear congruential generator.
 *   Growing the bucket count from n to n+1 moves only about 1/(n+1) of the keys, so adding
 *   queues to a FIFO topic re-homes few message groups, where `hash mod n` would move most.
 */
import { RoutingError } from './routing-error';

const LCG_MULTIPLIER = 2862933555777941757n;
const TWO_POW_31 = 2 ** 31;

export function javaStringHashCode(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) hash = (Math.imul(31, hash) + value.charCodeAt(i)) | 0;
  return hash;
}

/** Guava `Hashing.consistentHash(long, int)`: a bucket in [0, buckets). */
export function consistentHash(input: bigint | number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) {
    throw new RoutingError('INVALID_ARGUMENT', `Bucket count ${String(buckets)} is invalid; it must be a positive integer`);
  }
  if (typeof input === 'number' && !Number.isSafeInteger(input)) {
    throw new RoutingError('INVALID_ARGUMENT', `Hash input ${String(input)} is not an integer`);
  }
  let state = BigInt.asUintN(64, BigInt(input));
  let candidate = 0;
  for (;;) {
    state = BigInt.asUintN(64, LCG_MULTIPLIER * state + 1n);
    const nextDouble = (Number(state >> 33n) + 1) / TWO_POW_31;
    const next = Math.floor((candidate + 1) / nextDouble);
    if (next >= buckets) return candidate;
    candidate = next;
  }
}

/** The bucket of a FIFO message group among `buckets` writable queues, as RocketMQ's proxy. */
export function messageGroupBucket(messageGroup: string, buckets: number): number {
  return consistentHash(javaStringHashCode(messageGroup), buckets);
}
