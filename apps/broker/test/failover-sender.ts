/**
 * Child process of the failover specs: the official client's Producer sending to `endpoint`
 * continuously, one message at a time (maxAttempts 1), printing `ack <key> <epoch ms>` for each
 * acknowledged send and `fail <code>` for each failed one, until SIGTERM.
 *
 * Its own process because rocketmq-client-nodejs 1.0.8 crashes its host when a broker's
 * connection dies under a Telemetry stream it has released (TelemetrySession.release removes the
 * stream's listeners; grpc-js then emits UNAVAILABLE or CANCELLED on it with none left). Here
 * exactly those two errors of that stream are ignored; anything else still ends the process.
 */
import { Producer } from 'rocketmq-client-nodejs';

const [endpoint, topic] = process.argv.slice(2);
const GRPC_CANCELLED = 1;
const GRPC_UNAVAILABLE = 14;

process.on('uncaughtException', (err: Error & { code?: number }) => {
  if (err.code === GRPC_UNAVAILABLE || err.code === GRPC_CANCELLED) return;
  process.stderr.write(`${err.stack ?? String(err)}\n`);
  process.exit(2);
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

async function main(): Promise<void> {
  const producer = new Producer({ endpoints: endpoint, namespace: '', topics: [topic], sslEnabled: false, logger: quiet, maxAttempts: 1, requestTimeout: 2_000 });
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
