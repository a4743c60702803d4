import type * as grpc from '@grpc/grpc-js';

type RawUnary = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

/**
 * Calls the unary RPC `method` of a generated grpc-js client with a deadline `timeoutMs` from
 * now; rejects with the grpc-js ServiceError. Shared by the typed clients of this library.
 */
export function callUnary(client: grpc.Client, method: string, request: unknown, timeoutMs: number): Promise<unknown> {
  const fn = (client as unknown as Record<string, RawUnary>)[method] as RawUnary;
  return new Promise((resolve, reject) => {
    fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, response) => {
      if (err) reject(err);
      else resolve(response);
    });
  });
}
