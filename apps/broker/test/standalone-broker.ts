import { EventEmitter } from 'node:events';
import { SimpleConsumer } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, type AdminMessageType } from '@apogee/protocol';
import { loadConfig } from '@apogee/runtime';
import { APP, brokerConfigSchema, type BrokerConfig } from '../src/config';
import { startBroker, type RunningBroker } from '../src/start-broker';
import { silentLogger } from './metadata-fixture';

import { quietClientLogger } from './official-client';

export { quietClientLogger, tolerateBrokerDeath } from './official-client';

/** The config of a broker on loopback port 0 with no nameservers, data in `dataDir`. */
export function standaloneConfig(dataDir: string, overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return loadConfig(brokerConfigSchema, {
    app: APP,
    overrides: { grpcHost: '127.0.0.1', grpcPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, nameservers: [], dataDir, ...overrides },
  });
}

/** A broker started in-process on loopback port 0, standalone (no nameservers), silent. */
export function startStandaloneBroker(dataDir: string, overrides: Partial<BrokerConfig> = {}): Promise<RunningBroker> {
  return startBroker(standaloneConfig(dataDir, overrides), { logger: silentLogger });
}

/** Creates `topic` on the broker at `address` through BrokerAdmin (one short-lived admin client). */
export async function createTopic(address: string, topic: string, queues: number, messageType: AdminMessageType = 'NORMAL'): Promise<void> {
  const admin = createBrokerAdminClient(address);
  try {
    await admin.call('CreateTopic', { name: topic, read_queue_count: queues, write_queue_count: queues, message_type: messageType });
  } finally {
    admin.close();
  }
}

/** An official SimpleConsumer of `group` on `topic` ('*'), started, with a quiet logger. */
export async function startSimpleConsumer(address: string, group: string, topic: string, awaitDuration: number): Promise<SimpleConsumer> {
  const consumer = new SimpleConsumer({
    consumerGroup: group,
    endpoints: address,
    namespace: '',
    subscriptions: new Map([[topic, '*']]),
    awaitDuration,
    sslEnabled: false,
    logger: quietClientLogger,
  });
  await consumer.startup();
  return consumer;
}

/**
 * Shuts an official client down for good. shutdown() releases its Telemetry streams, but a stream
 * that failed less than a second before (its broker was stopped or restarted) is re-opened by a
 * timer shutdown() does not clear (TelemetrySession onEnd/onError): on a new gRPC channel, kept
 * open, and retried every second once the broker is gone, so jest never exits. From here on such
 * a re-open gets a stream that does nothing, and the RPC channels are closed even when shutdown()
 * failed (broker down).
 */
export async function shutdownClient(client: { shutdown(): Promise<void> }): Promise<void> {
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
export async function shutdownClients(clients: Iterable<{ shutdown(): Promise<void> } | undefined>): Promise<void> {
  for (const client of clients) if (client !== undefined) await shutdownClient(client).catch(() => undefined);
}
