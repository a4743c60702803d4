/**
 * The one error class of the routing model. Every failure carries a stable string code from
 * ROUTING_ERROR_CODES; the protocol lib maps each code to a RocketMQ v2 `Code` and a gRPC
 * status at the edge of each app. Everything in this lib is a pure check of its input, so no
 * routing error is retriable: the same input fails the same way.
 */

export const ROUTING_ERROR_CODES = [
  'INVALID_TOPIC_NAME',
  'RESERVED_TOPIC',
  'INVALID_GROUP_NAME',
  'RESERVED_GROUP',
  'INVALID_TAG',
  'INVALID_MESSAGE_KEY',
  'INVALID_MESSAGE_GROUP',
  'INVALID_CLUSTER_NAME',
  'INVALID_BROKER_NAME',
  'INVALID_BROKER_ID',
  'INVALID_BROKER_ADDRESS',
  'INVALID_PERMISSION',
  'INVALID_QUEUE_COUNT',
  'INVALID_MESSAGE_TYPE',
  'INVALID_TOPIC_CONFIG',
  'BROKER_CLUSTER_CONFLICT',
  'INVALID_ARGUMENT',
] as const;

export type RoutingErrorCode = (typeof ROUTING_ERROR_CODES)[number];

/** `cause` is Error's own (ES2022): pass it in `options` when wrapping another failure. */
export class RoutingError extends Error {
  readonly code: RoutingErrorCode;
  readonly retriable: boolean = false;

  constructor(code: RoutingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoutingError';
    this.code = code;
  }
}

/** Quotes a user-supplied value for an error message, shortening very long ones. */
export function quote(value: string, maxChars = 80): string {
  const shown = value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
  return JSON.stringify(shown);
}
