/**
 * `apogee message send` through the official RocketMQ 5 Node client (rocketmq-client-nodejs),
 * as an application would send: its Producer, against a broker's gRPC endpoint. Loaded on first
 * use only, so the other verbs do not pay for it.
 */
import type { CliProducer, SendInput } from './command';

/** Keeps the client quiet (it logs to ~/logs/rocketmq otherwise). */
const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

export async function startOfficialProducer(endpoint: string, topic: string): Promise<CliProducer> {
  const { Producer } = await import('rocketmq-client-nodejs');
  const producer = new Producer({ endpoints: endpoint, namespace: '', topics: [topic], sslEnabled: false, logger: QUIET, maxAttempts: 1 });
  try {
    await producer.startup();
  } catch (err) {
    await producer.shutdown().catch(() => undefined);
    throw err;
  }
  return {
    send: async (message: SendInput) => {
      const receipt = await producer.send({
        topic: message.topic,
        body: message.body,
        ...(message.tag === undefined ? {} : { tag: message.tag }),
        ...(message.keys === undefined ? {} : { keys: [...message.keys] }),
        ...(message.messageGroup === undefined ? {} : { messageGroup: message.messageGroup }),
      });
      const queue = receipt.messageQueue as unknown as { queueId?: number; broker?: { name?: string } } | undefined;
      return {
        messageId: receipt.messageId,
        offset: receipt.offset,
        ...(queue?.queueId === undefined ? {} : { queueId: queue.queueId }),
        ...(queue?.broker?.name === undefined ? {} : { brokerName: queue.broker.name }),
      };
    },
    shutdown: () => producer.shutdown(),
  };
}
