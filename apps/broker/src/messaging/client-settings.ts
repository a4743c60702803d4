/**
 * The broker's answer to a client's Settings (doc §3.2, §7): the client's own Settings echoed
 * (client_type, access_point, request_timeout, user_agent, publishing / subscription content)
 * with the server-side values written over them.
 *
 * - PRODUCER: exponential_backoff (initial 1 s, max 10 s, ×2; the client keeps its own
 *   max_attempts, 3 is sent), publishing.max_body_size = the broker's limit (never 0: 0 makes
 *   every send fail in the client), validate_message_type = true.
 * - PUSH_CONSUMER: subscription.fifo from the group's config, receive_batch_size 32,
 *   long_polling_timeout from the broker config (default 20 s), exponential_backoff in whole seconds (Node ignores customized
 *   policies and truncates to seconds), max_attempts = the group's max delivery attempts.
 * - SIMPLE_CONSUMER: the subscription echoed; clients read nothing from it.
 * - every type: metric {on: false}.
 */
import { DEFAULT_MAX_DELIVERY_ATTEMPTS, DEFAULT_RETRY_POLICY, type GroupConfig } from '../metadata/group-config';
import { durationOf, type WireRetryPolicy, type WireSettings } from './v2-wire';

export const PRODUCER_MAX_ATTEMPTS = 3;
export const PUSH_RECEIVE_BATCH_SIZE = 32;
export const PUSH_LONG_POLLING_TIMEOUT_MS = 20_000;
const SECOND_MS = 1_000;

export interface SettingsContext {
  readonly maxBodyBytes: number;
  /** long_polling_timeout for push consumers; PUSH_LONG_POLLING_TIMEOUT_MS when absent. */
  readonly pushLongPollingTimeoutMs?: number;
  /** The consumer group's config, if the broker has it. */
  readonly groupOf: (name: string) => GroupConfig | undefined;
}

/** The Settings to send back, or undefined for a client type the broker does not serve. */
export function answerSettings(settings: WireSettings, context: SettingsContext): WireSettings | undefined {
  const echo: WireSettings = {
    client_type: settings.client_type,
    access_point: settings.access_point,
    request_timeout: settings.request_timeout,
    user_agent: settings.user_agent,
    metric: { on: false },
  };
  switch (settings.client_type) {
    case 'PRODUCER':
      return {
        ...echo,
        backoff_policy: producerBackoff(),
        publishing: {
          topics: settings.publishing?.topics ?? [],
          max_body_size: context.maxBodyBytes,
          validate_message_type: true,
        },
      };
    case 'PUSH_CONSUMER': {
      const groupName = settings.subscription?.group?.name ?? '';
      const group = context.groupOf(groupName);
      return {
        ...echo,
        backoff_policy: consumerBackoff(group),
        subscription: {
          ...settings.subscription,
          fifo: group?.fifo ?? false,
          receive_batch_size: PUSH_RECEIVE_BATCH_SIZE,
          long_polling_timeout: durationOf(context.pushLongPollingTimeoutMs ?? PUSH_LONG_POLLING_TIMEOUT_MS),
        },
      };
    }
    case 'SIMPLE_CONSUMER':
      return { ...echo, backoff_policy: settings.backoff_policy, subscription: settings.subscription ?? {} };
    default:
      return undefined;
  }
}

function producerBackoff(): WireRetryPolicy {
  return {
    max_attempts: PRODUCER_MAX_ATTEMPTS,
    exponential_backoff: { initial: durationOf(SECOND_MS), max: durationOf(10 * SECOND_MS), multiplier: 2 },
  };
}

/**
 * Exponential in whole seconds (at least 1 s): the group's exponential policy, or for a
 * customized one its first and last steps with multiplier 2 (Node cannot follow a list).
 */
function consumerBackoff(group: GroupConfig | undefined): WireRetryPolicy {
  const policy = group?.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const wholeSeconds = (ms: number): number => Math.max(SECOND_MS, Math.round(ms / SECOND_MS) * SECOND_MS);
  const [initialMs, maxMs, multiplier] =
    policy.kind === 'EXPONENTIAL'
      ? [policy.initialBackoffMs, policy.maxBackoffMs, policy.multiplier]
      : [policy.backoffMs[0] ?? SECOND_MS, policy.backoffMs[policy.backoffMs.length - 1] ?? SECOND_MS, 2];
  return {
    max_attempts: group?.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS,
    exponential_backoff: {
      initial: durationOf(wholeSeconds(initialMs)),
      max: durationOf(wholeSeconds(maxMs)),
      multiplier,
    },
  };
}
