import type { handleUnaryCall, Metadata } from '@grpc/grpc-js';
import { ApogeeError, v2StatusOf } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';

export const CLIENT_ID_HEADER = 'x-mq-client-id';

/** What a v2 unary handler sees besides the request. */
export interface V2CallContext {
  /** The `x-mq-client-id` header: the client's identity. */
  readonly clientId: string;
  readonly metadata: Metadata;
}

export type V2UnaryHandler<Req, Res> = (request: Req, context: V2CallContext) => Res | Promise<Res>;

/** Epoch ms the client's deadline for this call ends at (Infinity without one). */
export function deadlineMsOf(call: { getDeadline(): Date | number }): number {
  const deadline = call.getDeadline();
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/** The client id of a call, or CLIENT_ID_REQUIRED (RocketMQ refuses calls without it). */
export function clientIdOf(metadata: Metadata): string {
  const value = metadata.get(CLIENT_ID_HEADER)[0];
  const clientId = typeof value === 'string' ? value : value?.toString('utf8');
  if (!clientId) {
    throw new ApogeeError('CLIENT_ID_REQUIRED', `The call has no ${CLIENT_ID_HEADER} header; RocketMQ 5 clients always send one`);
  }
  return clientId;
}

/**
 * The in-band v2 status answering `err`, mapped once through the error registry and logged:
 * unregistered errors (INTERNAL_SERVER_ERROR) at error with the cause, refusals at debug.
 */
export function v2RefusalOf(err: unknown, method: string, logger: Logger): ReturnType<typeof v2StatusOf> {
  const status = v2StatusOf(err);
  if (status.code === 'INTERNAL_SERVER_ERROR') logger.error({ err, method }, 'request failed');
  else logger.debug({ method, code: status.code, error: status.message }, 'request refused');
  return status;
}

/**
 * Adapts a v2 handler to grpc-js. RocketMQ answers business errors in-band: every failure
 * becomes `{ status: <v2 code, message> }` with gRPC OK, mapped once through the error registry;
 * unregistered errors are INTERNAL_SERVER_ERROR with a generic message and logged with the cause.
 */
export function v2UnaryCall<Req, Res>(
  method: string,
  logger: Logger,
  handle: V2UnaryHandler<Req, Res>,
): handleUnaryCall<Req, Res | { status: ReturnType<typeof v2StatusOf> }> {
  const refuse = (err: unknown): { status: ReturnType<typeof v2StatusOf> } => ({ status: v2RefusalOf(err, method, logger) });
  return (call, callback) => {
    let result: Res | Promise<Res>;
    try {
      result = handle(call.request, { clientId: clientIdOf(call.metadata), metadata: call.metadata });
    } catch (err) {
      callback(null, refuse(err));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => callback(null, response),
        (err: unknown) => callback(null, refuse(err)),
      );
    } else {
      callback(null, result);
    }
  };
}
