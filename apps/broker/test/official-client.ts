/**
 * Helpers for the official rocketmq-client-nodejs in tests and in test child processes: no broker
 * code imported here, so a child process (failover-sender.ts) loads only the client.
 */
import type { EventEmitter } from 'node:events';

/** For the official client's `logger` option: keeps test output clean (it logs to a file otherwise). */
export const quietClientLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/**
 * Lets an official client (1.0.8) live through a broker that dies under it. When a Telemetry
 * stream fails, TelemetrySession releases it (end(), then removeAllListeners()) and grpc-js may
 * then emit the connection's error on it with no listener left, which throws in the host process.
 * From here on every Telemetry stream of `client` keeps a no-op 'error' listener through such a
 * release; the session still sees every error first and re-opens the stream as before.
 */
export function tolerateBrokerDeath<T extends { shutdown(): Promise<void> }>(client: T): T {
  const internals = client as unknown as { createTelemetryStream: (endpoints: unknown) => EventEmitter };
  const create = internals.createTelemetryStream.bind(client);
  internals.createTelemetryStream = (endpoints) => {
    const stream = create(endpoints);
    const ignore = (): void => undefined;
    const removeAll = stream.removeAllListeners.bind(stream);
    stream.removeAllListeners = (event?: string | symbol) => {
      removeAll(event);
      if (!stream.listeners('error').includes(ignore)) stream.on('error', ignore);
      return stream;
    };
    return stream;
  };
  return client;
}
