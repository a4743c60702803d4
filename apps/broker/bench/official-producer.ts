/**
 * Part a: the official `rocketmq-client-nodejs` Producer (one message per SendMessage, as its
 * public API sends) with `inflight` sends outstanding, closed loop; msg/s over the measured
 * window after a warm-up. Same options as the project's producer tests: no TLS, namespace '',
 * a quiet logger.
 */
import { randomBytes } from 'node:crypto';
import { Producer } from 'rocketmq-client-nodejs';

const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

export interface ProducerResult {
  msgsPerSec: number;
  messages: number;
  seconds: number;
  failed: number;
  firstError?: string;
  serverCpuSeconds?: number;
  clientCpuSeconds: number;
}

export async function runOfficialProducer(
  address: string,
  opts: { topic: string; inflight: number; bodyBytes: number; durationMs: number; warmupMs: number; serverCpu?: () => number },
): Promise<ProducerResult> {
  const producer = new Producer({ endpoints: address, namespace: '', topics: [opts.topic], sslEnabled: false, logger: quietLogger });
  await producer.startup();
  const body = randomBytes(opts.bodyBytes);
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      try {
        await producer.send({ topic: opts.topic, body, tag: 'bench' });
        done++;
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  try {
    const workers = Array.from({ length: opts.inflight }, worker);
    await new Promise((r) => setTimeout(r, opts.warmupMs));
    const [t0, n0, c0, u0] = [performance.now(), done, opts.serverCpu?.(), process.cpuUsage()];
    await new Promise((r) => setTimeout(r, opts.durationMs));
    const [t1, n1, c1, u1] = [performance.now(), done, opts.serverCpu?.(), process.cpuUsage(u0)];
    stopped = true;
    await Promise.all(workers);
    const seconds = (t1 - t0) / 1000;
    const serverCpuSeconds = c0 === undefined || c1 === undefined ? undefined : c1 - c0;
    return { msgsPerSec: (n1 - n0) / seconds, messages: n1 - n0, seconds, failed, firstError, serverCpuSeconds, clientCpuSeconds: (u1.user + u1.system) / 1e6 };
  } finally {
    await shutdownTolerantly(producer);
  }
}

/**
 * producer.shutdown() of rocketmq-client-nodejs 1.0.8 releases its Telemetry stream
 * (TelemetrySession.release: end() then removeAllListeners()) before it closes the channel, whose
 * close then cancels that stream: the CANCELLED error is emitted with no listener left and would
 * end the benchmark. Only that error, and only while shutting down, is ignored here.
 */
export async function shutdownTolerantly(producer: Producer): Promise<void> {
  const ignoreCancelled = (err: Error & { code?: number }): void => {
    if (err.code !== 1 /* grpc CANCELLED */) throw err;
  };
  process.on('uncaughtException', ignoreCancelled);
  try {
    await producer.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the cancellation arrives after shutdown() resolves
  } finally {
    process.off('uncaughtException', ignoreCancelled);
  }
}
