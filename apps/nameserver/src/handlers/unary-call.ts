import type * as grpc from '@grpc/grpc-js';
import { toGrpcStatus } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';

/** A handler as the nameserver writes them: request in, response out, errors thrown. */
export type UnaryHandler<Req, Res> = (request: Req) => Res;

export interface UnaryCallOptions {
  /** The RPC name, for logs. */
  readonly method: string;
  readonly logger: Logger;
  /**
   * Level for refused requests (bad input, unknown topic): 'warn' for the broker-facing RPCs,
   * where a refusal means a misconfigured broker; 'debug' for queries, where it is routine.
   */
  readonly refusalLevel: 'warn' | 'debug';
}

/**
 * Adapts a handler to grpc-js. Every thrown error is mapped once, here, by toGrpcStatus: coded
 * errors keep their message and status; anything else is logged and answered INTERNAL.
 */
export function unaryCall<Req, Res>(
  options: UnaryCallOptions,
  handle: UnaryHandler<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  const { method, logger, refusalLevel } = options;
  return (call, callback) => {
    let response: Res;
    try {
      response = handle(call.request);
    } catch (err) {
      const status = toGrpcStatus(err);
      if (status.errorCode === 'INTERNAL') logger.error({ err, method }, 'request failed');
      else logger[refusalLevel]({ method, code: status.errorCode, error: status.details }, 'request refused');
      callback(status);
      return;
    }
    callback(null, response);
  };
}
