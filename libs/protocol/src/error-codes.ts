import { status } from '@grpc/grpc-js';
import type { RocketMqCode } from './rocketmq-code';

export interface ErrorCodeEntry {
  /** The apache.rocketmq.v2.Code sent in-band to RocketMQ clients. */
  v2Code: RocketMqCode;
  /** The gRPC status for our own services (and for transport-level failures). */
  grpcStatus: status;
  /** Whether the same request may succeed later or on another broker (the default for ApogeeError). */
  retriable: boolean;
  description: string;
}

function entry(v2Code: RocketMqCode, grpcStatus: status, retriable: boolean, description: string): ErrorCodeEntry {
  return Object.freeze({ v2Code, grpcStatus, retriable, description });
}

const bad = (v2Code: RocketMqCode, description: string): ErrorCodeEntry =>
  entry(v2Code, status.INVALID_ARGUMENT, false, description);

const GENERAL = {
  BAD_REQUEST: bad('BAD_REQUEST', 'The request is malformed or breaks a rule.'),
  NOT_FOUND: entry('NOT_FOUND', status.NOT_FOUND, false, 'The named resource does not exist.'),
  NOT_IMPLEMENTED: entry('NOT_IMPLEMENTED', status.UNIMPLEMENTED, false, 'This operation is not implemented.'),
  INTERNAL: entry('INTERNAL_SERVER_ERROR', status.INTERNAL, false, 'An unexpected server error.'),
};

/** Codes thrown by the routing model (RoutingError); pure checks, so never retriable. */
const ROUTING = {
  INVALID_NAME: bad('BAD_REQUEST', 'A topic or group name breaks the naming rules.'),
  INVALID_TOPIC_NAME: bad('ILLEGAL_TOPIC', 'The topic name breaks the naming rules.'),
  RESERVED_TOPIC: bad('ILLEGAL_TOPIC', 'The topic name is reserved for system topics.'),
  INVALID_GROUP_NAME: bad('ILLEGAL_CONSUMER_GROUP', 'The group name breaks the naming rules.'),
  RESERVED_GROUP: bad('ILLEGAL_CONSUMER_GROUP', 'The group name is reserved for system groups.'),
  INVALID_TAG: bad('ILLEGAL_MESSAGE_TAG', 'The message tag is not allowed.'),
  INVALID_MESSAGE_KEY: bad('ILLEGAL_MESSAGE_KEY', 'A message key is not allowed.'),
  INVALID_MESSAGE_GROUP: bad('ILLEGAL_MESSAGE_GROUP', 'The message group is not allowed.'),
  INVALID_CLUSTER_NAME: bad('BAD_REQUEST', 'The cluster name breaks the naming rules.'),
  INVALID_BROKER_NAME: bad('BAD_REQUEST', 'The broker name breaks the naming rules.'),
  INVALID_BROKER_ID: bad('BAD_REQUEST', 'The broker id is out of range.'),
  INVALID_BROKER_ADDRESS: bad('BAD_REQUEST', 'The broker address is not host:port.'),
  INVALID_PERMISSION: bad('BAD_REQUEST', 'The permission value is not valid.'),
  INVALID_QUEUE_COUNT: bad('BAD_REQUEST', 'The queue count is out of range.'),
  INVALID_MESSAGE_TYPE: bad('BAD_REQUEST', 'The topic message type is not valid.'),
  INVALID_TOPIC_CONFIG: bad('BAD_REQUEST', 'The topic configuration is not valid.'),
  BROKER_CLUSTER_CONFLICT: entry('BAD_REQUEST', status.FAILED_PRECONDITION, false,
    'The broker group is registered under another cluster.'),
  INVALID_ARGUMENT: bad('BAD_REQUEST', 'An argument is out of range.'),
};

/** Codes thrown by the storage engine (StorageError). */
const STORAGE = {
  MESSAGE_TOO_LARGE: bad('MESSAGE_BODY_TOO_LARGE', 'The message exceeds the size limit.'),
  INVALID_MESSAGE: bad('BAD_REQUEST', 'The message cannot be stored as given.'),
  OFFSET_OUT_OF_RANGE: entry('BAD_REQUEST', status.OUT_OF_RANGE, false, 'The offset is outside the stored range.'),
  INVALID_OFFSET: bad('BAD_REQUEST', 'The offset is not the start of a stored record.'),
  DISK_FULL: entry('INTERNAL_SERVER_ERROR', status.RESOURCE_EXHAUSTED, true,
    'The disk is nearly full; writes are refused.'),
  STORAGE_READ_ONLY: entry('INTERNAL_SERVER_ERROR', status.UNAVAILABLE, false,
    'The store turned read-only after a failed write.'),
  STORE_CLOSED: entry('INTERNAL_SERVER_ERROR', status.UNAVAILABLE, false, 'The store is closed.'),
  STORE_TRUNCATING: entry('INTERNAL_SERVER_ERROR', status.UNAVAILABLE, true,
    'The store is cutting its log tail (master failover); writes are refused until it is done.'),
  IO_ERROR: entry('INTERNAL_SERVER_ERROR', status.INTERNAL, false, 'A disk read or write failed.'),
  CORRUPT_RECORD: entry('INTERNAL_SERVER_ERROR', status.DATA_LOSS, false, 'A stored record failed its checks.'),
  CORRUPT_METADATA: entry('INTERNAL_SERVER_ERROR', status.DATA_LOSS, false, 'Stored metadata failed its checks.'),
  INVALID_CONFIG: entry('INTERNAL_SERVER_ERROR', status.FAILED_PRECONDITION, false, 'The server is misconfigured.'),
};

/** Codes of the broker's topic and subscription-group metadata (admin RPCs, send and receive checks). */
const METADATA = {
  TOPIC_NOT_FOUND: entry('TOPIC_NOT_FOUND', status.NOT_FOUND, false,
    'The topic does not exist on this broker and auto-creation is off.'),
  TOPIC_EXISTS: entry('BAD_REQUEST', status.ALREADY_EXISTS, false, 'A topic with this name already exists.'),
  TOPIC_NOT_WRITABLE: entry('FORBIDDEN', status.FAILED_PRECONDITION, false,
    "The topic's permission does not allow sending."),
  MESSAGE_TYPE_MISMATCH: entry('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE', status.FAILED_PRECONDITION, false,
    "The message type differs from the topic's message type."),
  GROUP_NOT_FOUND: entry('CONSUMER_GROUP_NOT_FOUND', status.NOT_FOUND, false,
    'The consumer group does not exist on this broker and auto-creation is off.'),
  GROUP_EXISTS: entry('BAD_REQUEST', status.ALREADY_EXISTS, false, 'A consumer group with this name already exists.'),
};

/**
 * Codes of consumption (ReceiveMessage, AckMessage, ChangeInvisibleDuration; PullMessage, GetOffset, UpdateOffset). Every receipt
 * handle failure is v2 INVALID_RECEIPT_HANDLE: push consumers stop retrying an ack or nack only on
 * that code (rocketmq-v2-protocol.md §3.10, §8.9); the stable code tells operators which case it was.
 */
const CONSUMER = {
  INVALID_RECEIPT_HANDLE: bad('INVALID_RECEIPT_HANDLE', 'The receipt handle is malformed or not from this broker.'),
  RECEIPT_HANDLE_EXPIRED: bad('INVALID_RECEIPT_HANDLE',
    "The receipt handle's invisible time has passed; the message will be redelivered with a new handle."),
  RECEIPT_HANDLE_STALE: bad('INVALID_RECEIPT_HANDLE',
    'The receipt handle was superseded: the message was acked, redelivered or given a new handle since.'),
  ILLEGAL_INVISIBLE_TIME: bad('ILLEGAL_INVISIBLE_TIME', 'The invisible duration is out of range.'),
  ILLEGAL_FILTER_EXPRESSION: bad('ILLEGAL_FILTER_EXPRESSION', 'The filter expression is not valid.'),
  ILLEGAL_POLLING_TIME: bad('ILLEGAL_POLLING_TIME', "The call's deadline leaves no time to poll for messages."),
  TOPIC_NOT_READABLE: entry('FORBIDDEN', status.FAILED_PRECONDITION, false,
    "The topic's permission does not allow consuming."),
  ILLEGAL_OFFSET: entry('ILLEGAL_OFFSET', status.OUT_OF_RANGE, false,
    "The queue offset is outside the queue's stored range [min, max]."),
  OFFSET_NOT_FOUND: entry('OFFSET_NOT_FOUND', status.NOT_FOUND, false,
    'The consumer group has no committed offset in this queue.'),
  INFLIGHT_MESSAGES_PENDING: entry('BAD_REQUEST', status.FAILED_PRECONDITION, false,
    'The consumer group has POP messages in flight in this queue, so its offset cannot be set.'),
};

/** Codes of apache.rocketmq.v2.MessagingService requests (send validation, client identity). */
const MESSAGING = {
  MESSAGE_CORRUPTED: bad('MESSAGE_CORRUPTED', 'The request carries no messages or messages of different topics.'),
  MISSING_MESSAGE_ID: bad('ILLEGAL_MESSAGE_ID', 'A message has no message id.'),
  EMPTY_MESSAGE_BODY: bad('MESSAGE_BODY_EMPTY', 'A message body is empty.'),
  INVALID_PROPERTY_KEY: bad('ILLEGAL_MESSAGE_PROPERTY_KEY', 'A user property name is reserved or not printable.'),
  PROPERTIES_TOO_LARGE: bad('MESSAGE_PROPERTIES_TOO_LARGE', 'The user properties exceed the count or size limit.'),
  INVALID_DELIVERY_TIME: bad('ILLEGAL_DELIVERY_TIME', 'The delivery timestamp is not acceptable.'),
  TIMER_NOT_FOUND: entry('MESSAGE_NOT_FOUND', status.NOT_FOUND, false,
    'The delayed message to recall already fired, was recalled before, or is unknown.'),
  UNSUPPORTED_MESSAGE_TYPE: entry('UNSUPPORTED', status.UNIMPLEMENTED, false,
    'This broker does not store messages of this type yet.'),
  TRANSACTION_ID_REQUIRED: bad('INVALID_TRANSACTION_ID', 'EndTransaction names no transaction id.'),
  TRANSACTION_NOT_FOUND: entry('INVALID_TRANSACTION_ID', status.NOT_FOUND, false,
    'No pending transaction has this id on this broker (unknown, or resolved long ago), or it names another message or topic.'),
  TRANSACTION_ALREADY_RESOLVED: entry('INVALID_TRANSACTION_ID', status.FAILED_PRECONDITION, false,
    'The transaction was already resolved the other way (committed, or rolled back).'),
  UNKNOWN_CLIENT_TYPE: bad('UNRECOGNIZED_CLIENT_TYPE', 'The client type is missing or not supported.'),
  CLIENT_ID_REQUIRED: bad('CLIENT_ID_REQUIRED', 'The call has no x-mq-client-id header.'),
  FIFO_OWNER_UNAVAILABLE: entry('PROXY_TIMEOUT', status.UNAVAILABLE, true,
    'The broker owning the FIFO message group could not be reached; nothing was stored, send again.'),
};

/** Codes of the index-service (apogee.index.v1.MessageIndex). */
const INDEX = {
  BROKER_UNAVAILABLE: entry('PROXY_TIMEOUT', status.UNAVAILABLE, true,
    'A broker holding messages of the answer could not be reached: the answer would be incomplete.'),
};

/** Codes of replication (apogee.broker.v1.Replication) and of writes sent to a slave. */
const REPLICATION = {
  NOT_MASTER: entry('HA_NOT_AVAILABLE', status.UNAVAILABLE, true,
    'This broker is a slave: it takes no writes and serves no replicas; send to the master of its broker group.'),
  REPLICA_REFUSED: entry('BAD_REQUEST', status.FAILED_PRECONDITION, false,
    'The master refused the replica: another broker name, broker id 0, or another segment size.'),
  REPLICA_AHEAD_OF_MASTER: entry('BAD_REQUEST', status.OUT_OF_RANGE, false,
    "The replica's commit log extends past the master's end; its extra tail must be truncated first."),
  REPLICA_OFFSET_MISMATCH: entry('BAD_REQUEST', status.FAILED_PRECONDITION, false,
    "Replicated bytes do not start at the replica's log end."),
  // SYNC replication (docs/decisions/0006-replication.md), as RocketMQ's proxy maps SendStatus:
  // SLAVE_NOT_AVAILABLE → HA_NOT_AVAILABLE, FLUSH_SLAVE_TIMEOUT → SLAVE_PERSISTENCE_TIMEOUT.
  NO_IN_SYNC_REPLICA: entry('HA_NOT_AVAILABLE', status.UNAVAILABLE, true,
    'SYNC replication: the master has no in-sync slave to confirm the write; it is stored on the master only, send again.'),
  REPLICA_CONFIRM_TIMEOUT: entry('SLAVE_PERSISTENCE_TIMEOUT', status.UNAVAILABLE, true,
    'SYNC replication: no in-sync slave confirmed the write in time; it is stored on the master, send again.'),
  // Failover (docs/decisions/0007-failover.md).
  MASTER_LEASE_EXPIRED: entry('HA_NOT_AVAILABLE', status.UNAVAILABLE, true,
    'This master has not heard from the ha-replicator within its lease and acknowledges no writes (it may have been replaced); send again.'),
  NOT_ACTING: entry('HA_NOT_AVAILABLE', status.UNAVAILABLE, true,
    'This ha-replicator is not the elected one; ask the acting ha-replicator.'),
  STALE_EPOCH: entry('BAD_REQUEST', status.FAILED_PRECONDITION, false,
    "The request carries an older epoch than this broker's; the group has a newer master."),
};

/**
 * The one registry of stable error codes: every error crossing an app's edge carries one of
 * these as its string `code` (ApogeeError, and the storage and routing libs' own error classes).
 */
export const ERROR_CODES = Object.freeze({ ...GENERAL, ...ROUTING, ...STORAGE, ...METADATA, ...CONSUMER, ...MESSAGING, ...INDEX, ...REPLICATION });

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
