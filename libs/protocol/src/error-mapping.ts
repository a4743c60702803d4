import { Metadata, status } from '@grpc/grpc-js';
import type { RocketMqCode } from './rocketmq-code';
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes';

/** Metadata key carrying the stable Apogee code next to a gRPC error. */
export const ERROR_CODE_METADATA_KEY = 'apogee-error-code';

/** A gRPC error status; grpc-js accepts it as the error argument of a unary callback. */
export interface GrpcErrorStatus {
  code: status;
  details: string;
  metadata: Metadata;
  errorCode: ErrorCode;
}

/** An in-band apache.rocketmq.v2.Status. */
export interface V2Status {
  code: RocketMqCode;
  message: string;
}

const UNKNOWN_MESSAGE = 'internal error';

/**
 * Maps any error to a gRPC status: an error whose string `code` is registered keeps its message;
 * anything else (Node system errors, bugs) is INTERNAL with a generic message: log the original
 * at the edge, do not leak it to clients.
 */
export function toGrpcStatus(err: unknown): GrpcErrorStatus {
  const { errorCode, message } = classify(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, errorCode);
  return { code: ERROR_CODES[errorCode].grpcStatus, details: message, metadata, errorCode };
}

/** Maps any error to the in-band RocketMQ v2 status, by the same rules as toGrpcStatus. */
export function toV2Status(err: unknown): V2Status {
  const { errorCode, message } = classify(err);
  return { code: ERROR_CODES[errorCode].v2Code, message };
}

function classify(err: unknown): { errorCode: ErrorCode; message: string } {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (isErrorCode(code)) {
    return { errorCode: code, message: (err as { message?: unknown }).message?.toString() || code };
  }
  return { errorCode: 'INTERNAL', message: UNKNOWN_MESSAGE };
}
