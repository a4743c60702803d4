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

export { shutdownClient, shutdownClients } from '@apogee/testing';
