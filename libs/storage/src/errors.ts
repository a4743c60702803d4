/**
 * The storage engine's one error class. Codes are stable strings; the protocol lib's
 * registry maps each to a RocketMQ v2 `Code` and a gRPC status at the edge of an app.
 */
export const STORAGE_ERROR_CODES = [
  'IO_ERROR',
  'STORAGE_READ_ONLY',
  'DISK_FULL',
  'MESSAGE_TOO_LARGE',
  'INVALID_NAME',
  'INVALID_MESSAGE',
  'INVALID_CONFIG',
  'CORRUPT_RECORD',
  'CORRUPT_METADATA',
  'OFFSET_OUT_OF_RANGE',
  'INVALID_OFFSET',
  'STORE_CLOSED',
  'REPLICA_OFFSET_MISMATCH',
  'STORE_TRUNCATING',
] as const;

export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

/** Codes a caller may retry later with a chance of success (the condition can clear). */
const RETRIABLE: ReadonlySet<StorageErrorCode> = new Set<StorageErrorCode>(['DISK_FULL', 'STORE_TRUNCATING']);

/** Codes that reject one message for what it is; the store itself is fine. */
export const VALIDATION_CODES: ReadonlySet<StorageErrorCode> = new Set<StorageErrorCode>([
  'MESSAGE_TOO_LARGE',
  'INVALID_NAME',
  'INVALID_MESSAGE',
]);

export class StorageError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.retriable = options.retriable ?? RETRIABLE.has(code);
  }
}
