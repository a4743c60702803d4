/**
 * A subscription (consumer) group's configuration: RocketMQ 5's SubscriptionGroupConfig reduced
 * to what Apogee uses. Pure: validation and defaults, no I/O.
 *
 * | field               | default                  | RocketMQ 5 source                                            |
 * | ------------------- | ------------------------ | ------------------------------------------------------------ |
 * | fifo                | false                    | SubscriptionGroupConfig.consumeMessageOrderly = false          |
 * | maxDeliveryAttempts | 17                       | retryMaxTimes = 16; the proxy announces max_attempts =         |
 * |                     |                          | retryMaxTimes + 1 (GrpcClientSettingsManager), deliveries      |
 * |                     |                          | counted with the first                                         |
 * | retryPolicy         | EXPONENTIAL 5 s, ×2, 2 h | ExponentialRetryPolicy's defaults (initial 5 s, max 2 h,       |
 * |                     |                          | multiplier 2)                                                  |
 * | broadcast           | false                    | RocketMQ 4's MessageModel.BROADCASTING, decided by the group   |
 * |                     |                          | here (RocketMQ 5 clients have no switch): every client of the  |
 * |                     |                          | group gets every message (consumer/broadcast-state.ts)         |
 *
 * RocketMQ's GroupRetryPolicy itself defaults to CUSTOMIZED (the 1 s … 2 h delay levels). The
 * Node client ignores a customized back-off and then redelivers at once, and dead-letters FIFO
 * messages after one failure (docs: rocketmq-v2-protocol.md §5.4, §7), so Apogee defaults to the
 * exponential policy and keeps CUSTOMIZED for groups of Java clients. Exponential back-offs are
 * whole seconds because the Node client drops the fraction.
 */
import { ApogeeError } from '@apogee/protocol';
import { validateGroupName, type ReservedNameOptions } from '@apogee/routing';

const SECOND_MS = 1_000;
const HOUR_MS = 3_600_000;

export const DEFAULT_MAX_DELIVERY_ATTEMPTS = 17;
export const MAX_DELIVERY_ATTEMPTS = 1_000;
/** Longest back-off: the proxy's longest delay (maxDelayTimeMills, 1 day). */
export const MAX_BACKOFF_MS = 24 * HOUR_MS;
export const MAX_MULTIPLIER = 10;
export const MAX_CUSTOMIZED_STEPS = 64;

export interface ExponentialRetryPolicy {
  readonly kind: 'EXPONENTIAL';
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly multiplier: number;
}

export interface CustomizedRetryPolicy {
  readonly kind: 'CUSTOMIZED';
  /** Back-off before retry n is backoffMs[n - 1]; the last one repeats. */
  readonly backoffMs: readonly number[];
}

export type RetryPolicy = ExponentialRetryPolicy | CustomizedRetryPolicy;

export const DEFAULT_RETRY_POLICY: ExponentialRetryPolicy = Object.freeze({
  kind: 'EXPONENTIAL',
  initialBackoffMs: 5 * SECOND_MS,
  maxBackoffMs: 2 * HOUR_MS,
  multiplier: 2,
});

export interface GroupConfig {
  readonly name: string;
  /** Deliver each message group in order (consumeMessageOrderly). */
  readonly fifo: boolean;
  /** Deliveries of one message, the first included, before it goes to %DLQ%<group>. */
  readonly maxDeliveryAttempts: number;
  readonly retryPolicy: RetryPolicy;
  /** Every client of the group receives every message, with its own positions (broadcasting). */
  readonly broadcast: boolean;
}

/** What an admin gives: everything but the name has a default. */
export interface GroupConfigInput {
  readonly name: string;
  readonly fifo?: boolean;
  readonly maxDeliveryAttempts?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly broadcast?: boolean;
}

/** Fills defaults, validates (INVALID_GROUP_NAME, RESERVED_GROUP, INVALID_ARGUMENT) and freezes. */
export function createGroupConfig(input: GroupConfigInput, options: ReservedNameOptions = {}): GroupConfig {
  validateGroupName(input.name, options);
  const fail = (what: string): never => {
    throw new ApogeeError('INVALID_ARGUMENT', `Consumer group ${JSON.stringify(input.name)}: ${what}`);
  };
  const fifo = input.fifo ?? false;
  if (typeof fifo !== 'boolean') fail(`fifo must be true or false, not ${JSON.stringify(fifo)}`);
  // configs stored before broadcasting existed have no field: false
  const broadcast = input.broadcast ?? false;
  if (typeof broadcast !== 'boolean') fail(`broadcast must be true or false, not ${JSON.stringify(broadcast)}`);
  const maxDeliveryAttempts = input.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS;
  if (!isIntegerIn(maxDeliveryAttempts, 1, MAX_DELIVERY_ATTEMPTS)) {
    fail(
      `max delivery attempts ${String(maxDeliveryAttempts)} is out of range; ` +
        `allowed: an integer from 1 to ${MAX_DELIVERY_ATTEMPTS}`,
    );
  }
  const retryPolicy = freezePolicy(input.retryPolicy ?? DEFAULT_RETRY_POLICY);
  const problem = retryPolicyProblem(retryPolicy);
  if (problem !== undefined) fail(problem);
  return Object.freeze({ name: input.name, fifo, maxDeliveryAttempts, retryPolicy, broadcast });
}

/** Back-off before retry `retry` (1 = the first redelivery), as RocketMQ's nextDelayDuration(retry - 1). */
export function retryBackoffMs(policy: RetryPolicy, retry: number): number {
  const step = Math.max(1, Math.floor(retry));
  if (policy.kind === 'CUSTOMIZED') return policy.backoffMs[Math.min(step, policy.backoffMs.length) - 1];
  const exponent = Math.min(step - 1, 32); // RocketMQ caps the exponent at 32 too
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** exponent);
}

/** What is wrong with the policy, in words that say what to fix; undefined when it is valid. */
function retryPolicyProblem(policy: RetryPolicy): string | undefined {
  if (policy.kind === 'EXPONENTIAL') {
    const { initialBackoffMs: initial, maxBackoffMs: max, multiplier } = policy;
    for (const [what, ms] of [['initial back-off', initial], ['max back-off', max]] as const) {
      if (!isIntegerIn(ms, SECOND_MS, MAX_BACKOFF_MS) || ms % SECOND_MS !== 0) {
        return (
          `${what} ${String(ms)} ms is not allowed; ` +
          'use whole seconds from 1 s to 24 h (the Node client drops fractions of a second)'
        );
      }
    }
    if (max < initial) return `max back-off ${max} ms is shorter than the initial back-off ${initial} ms`;
    if (!(typeof multiplier === 'number' && multiplier >= 1 && multiplier <= MAX_MULTIPLIER)) {
      return `back-off multiplier ${String(multiplier)} is out of range; allowed: 1 to ${MAX_MULTIPLIER}`;
    }
    return undefined;
  }
  if (policy.kind === 'CUSTOMIZED') {
    const steps = policy.backoffMs;
    if (!Array.isArray(steps) || steps.length < 1 || steps.length > MAX_CUSTOMIZED_STEPS) {
      return `a customized back-off needs 1 to ${MAX_CUSTOMIZED_STEPS} delays`;
    }
    const bad = steps.findIndex((ms) => !isIntegerIn(ms, 1, MAX_BACKOFF_MS));
    if (bad >= 0) return `customized back-off #${bad + 1} (${String(steps[bad])} ms) is out of range; allowed: 1 ms to 24 h`;
    return undefined;
  }
  return `retry policy kind ${JSON.stringify((policy as { kind?: unknown }).kind)} is unknown; allowed: EXPONENTIAL, CUSTOMIZED`;
}

/** A frozen copy holding only the policy's own fields. */
function freezePolicy(policy: RetryPolicy): RetryPolicy {
  switch (policy.kind) {
    case 'EXPONENTIAL': {
      const { kind, initialBackoffMs, maxBackoffMs, multiplier } = policy;
      return Object.freeze({ kind, initialBackoffMs, maxBackoffMs, multiplier });
    }
    case 'CUSTOMIZED': {
      const steps = Array.isArray(policy.backoffMs) ? Object.freeze([...policy.backoffMs]) : policy.backoffMs;
      return Object.freeze({ kind: policy.kind, backoffMs: steps });
    }
    default:
      return policy;
  }
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}
