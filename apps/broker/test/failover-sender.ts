/**
 * Child process of the failover specs: the official client's Producer sending to `endpoint`
 * continuously, one message at a time (maxAttempts 1), printing `ack <key> <epoch ms>` for each
 * acknowledged send and `fail <code>` for each failed one, until SIGTERM.
 *
 * Its own process, so that the benchmark (bench:ha) runs the very same sender. The client lives
 * through the master's death with tolerateBrokerDeath (official-client.ts).
 */
import { Producer } from 'rocketmq-client-nodejs';
import { quietClientLogger, tolerateBrokerDeath } from './official-client';

const [endpoint, topic] = process.argv.slice(2);

async function main(): Promise<void> {
  const producer = tolerateBrokerDeath(
    new Producer({ endpoints: endpoint, namespace: '', topics: [topic], sslEnabled: false, logger: quietClientLogger, maxAttempts: 1, requestTimeout: 2_000 }),
  );
  await producer.startup();
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  for (let i = 0; !stopping; i++) {
    const key = `m-${i}`;
    try {
      await producer.send({ topic, tag: 't', keys: [key], body: Buffer.from(key) });
      process.stdout.write(`ack ${key} ${Date.now()}\n`);
    } catch (err) {
      process.stdout.write(`fail ${(err as { code?: unknown }).code ?? 'error'}\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  process.exit(0); // the client's own timers would keep it alive
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
