import { Writable } from 'node:stream';
import { createNameServerClient, type NameServerClient, type NameServerRegistration } from '@apogee/protocol';
import { createTopicConfig, type MessageType, type TopicConfig } from '@apogee/routing';
import { createLogger, loadConfig, type RunningService } from '@apogee/runtime';
import { APP, nameserverConfigSchema } from '../src/config';
import { startNameserver } from '../src/start-nameserver';

/** One nameserver started in-process on loopback port 0, a client of it, and its log lines. */
export interface TestNameserver {
  service: RunningService;
  client: NameServerClient;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTestNameserver(overrides: Record<string, unknown> = {}): Promise<TestNameserver> {
  const config = loadConfig(nameserverConfigSchema, {
    app: APP,
    overrides: { grpcHost: '127.0.0.1', grpcPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, logLevel: 'debug', ...overrides },
  });
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const service = await startNameserver(config, { logger: createLogger({ app: APP, level: 'debug', destination }) });
  const client = createNameServerClient(service.grpcAddress, { timeoutMs: 2_000 });
  const stop = async (): Promise<void> => {
    client.close();
    await service.stop();
  };
  return { service, client, logs, stop };
}

export function topic(name: string, queues = 4, messageType: MessageType = 'NORMAL'): TopicConfig {
  return createTopicConfig({ name, readQueueCount: queues, writeQueueCount: queues, messageType });
}

/** A replica of broker group `brokerName` at 127.0.0.1:<port>, in cluster DefaultCluster. */
export function replica(brokerName: string, brokerId: number, port: number, topics: TopicConfig[]): NameServerRegistration {
  return { clusterName: 'DefaultCluster', brokerName, brokerId, address: `127.0.0.1:${port}`, topics };
}

/** The gRPC error a promise rejects with. */
export async function grpcError(promise: Promise<unknown>): Promise<{ code: number; details: string; metadata: { get(key: string): unknown[] } }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: number; details: string; metadata: { get(key: string): unknown[] } };
  }
  throw new Error('expected the call to fail');
}
