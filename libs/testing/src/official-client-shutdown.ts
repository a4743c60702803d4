import { EventEmitter } from 'node:events';

/** What shutting an official RocketMQ client down needs of it (Producer, SimpleConsumer, PushConsumer). */
export interface ShutdownableClient {
  shutdown(): Promise<void>;
}

/**
 * Shuts an official client down for good. shutdown() releases its Telemetry streams, but a stream
 * that failed less than a second before (its broker was stopped or restarted) is re-opened by a
 * timer shutdown() does not clear (TelemetrySession onEnd/onError): on a new gRPC channel, kept
 * open, and retried every second once the broker is gone, so jest never exits. From here on such
 * a re-open gets a stream that does nothing, and the RPC channels are closed even when shutdown()
 * failed (broker down).
 */
export async function shutdownClient(client: ShutdownableClient): Promise<void> {
  const internals = client as unknown as { createTelemetryStream: () => unknown; rpcClientManager: { close(): void } };
  try {
    await client.shutdown();
  } finally {
    internals.createTelemetryStream = () => Object.assign(new EventEmitter(), { write: () => true, end: () => undefined });
    internals.rpcClientManager.close();
  }
}

/**
 * Test cleanup: shuts every client down for good (shutdownClient), one after another, going on
 * past a client that fails (its broker may be gone already), so the rest of the cleanup runs.
 */
export async function shutdownClients(clients: Iterable<ShutdownableClient | undefined>): Promise<void> {
  for (const client of clients) if (client !== undefined) await shutdownClient(client).catch(() => undefined);
}
