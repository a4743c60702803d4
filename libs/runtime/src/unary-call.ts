import { status, type handleUnaryCall } from '@grpc/grpc-js';
import { toGrpcStatus } from '@apogee/protocol';
import type { Logger } from './logger';

/** A handler as the apps write them: request in, response (or its promise) out, errors thrown. */
export type UnaryHandler<Req, Res> = (request: Req) => Res | Promise<Res>;

export interface UnaryCallOptions {
  /** The RPC name, for logs. */
  readonly method: string;
  readonly logger: Logger;
  /** Log level for a caller's mistake (bad input, unknown name): 'warn' where it means a misconfigured peer. */
  readonly refusalLevel: 'warn' | 'debug';
}

/** Statuses that mean "the caller asked for something wrong", as opposed to a server failure. */
const REFUSALS: ReadonlySet<status> = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
]);

/**
 * Adapts a handler to grpc-js. Every failure is mapped once, here, by toGrpcStatus: coded errors
 * keep their message and status; anything else is answered INTERNAL. Refusals are logged at
 * `refusalLevel`, server failures at error with the cause.
 */
export function unaryCall<Req, Res>(options: UnaryCallOptions, handle: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
  const { method, logger, refusalLevel } = options;
  const fail = (err: unknown, callback: (e: ReturnType<typeof toGrpcStatus>) => void): void => {
    const answer = toGrpcStatus(err);
    if (REFUSALS.has(answer.code)) logger[refusalLevel]({ method, code: answer.errorCode, error: answer.details }, 'request refused');
    else logger.error({ err, method, code: answer.errorCode }, 'request failed');
    callback(answer);
  };
  return (call, callback) => {
    let result: Res | Promise<Res>;
    try {
      result = handle(call.request);
    } catch (err) {
      fail(err, callback);
      return;
    }
    if (result instanceof Promise) result.then((response) => callback(null, response), (err: unknown) => fail(err, callback));
    else callback(null, result);
  };
}
