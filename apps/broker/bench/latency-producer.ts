/**
 * The official `rocketmq-client-nodejs` Producer with `inflight` sends outstanding, closed loop,
 * as official-producer.ts, but it also times every send: msg/s over the measured window after a
 * warm-up, and the latency of each send that completed in the window (p50/p99/max). Before the
 * warm-up it sends until one send succeeds (a SYNC master refuses sends until its slave is in sync).
 */
import { randomBytes } from 'node:crypto';
import { Producer } from 'rocketmq-client-nodejs';
import { percentile, sleep } from '@apogee/bench';
import { shutdownTolerantly } from './official-producer';

const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

export interface LatencyProducerResult {
  msgsPerSec: number;
  messages: number;
  seconds: number;
  failed: number;
  firstError?: string;
  p50: number;
  p99: number;
  max: number;
  /** Sends that failed before the first success (waiting for the group to be ready). */
  probeFailures: number;
  /** CPU seconds of this (the client's) process in the window. */
  clientCpuSeconds: number;
}

export async function runLatencyProducer(
  address: string,
  opts: { topic: string; inflight: number; bodyBytes: number; durationMs: number; warmupMs: number; readyTimeoutMs?: number },
): Promise<LatencyProducerResult> {
  const producer = new Producer({ endpoints: address, namespace: '', topics: [opts.topic], sslEnabled: false, logger: quietLogger });
  await producer.startup();
  const body = randomBytes(opts.bodyBytes);
  try {
    let probeFailures = 0;
    const readyBy = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    for (;;) {
      try {
        await producer.send({ topic: opts.topic, body, tag: 'bench' });
        break;
      } catch (err) {
        probeFailures++;
        if (Date.now() > readyBy) throw new Error(`no send succeeded within ${opts.readyTimeoutMs ?? 30_000} ms: ${(err as Error).message}`);
        await sleep(100);
      }
    }

    let measuring = false;
    let stopped = false;
    let done = 0;
    let failed = 0;
    let firstError: string | undefined;
    const latencies: number[] = [];
    const worker = async (): Promise<void> => {
      while (!stopped) {
        const t0 = performance.now();
        try {
          await producer.send({ topic: opts.topic, body, tag: 'bench' });
          done++;
          if (measuring) latencies.push(performance.now() - t0);
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    };
    const workers = Array.from({ length: opts.inflight }, worker);
    await sleep(opts.warmupMs);
    const [t0, n0, f0, u0] = [performance.now(), done, failed, process.cpuUsage()];
    measuring = true;
    await sleep(opts.durationMs);
    measuring = false;
    const [t1, n1, f1, u1] = [performance.now(), done, failed, process.cpuUsage(u0)];
    stopped = true;
    await Promise.all(workers);
    const seconds = (t1 - t0) / 1000;
    const sorted = Float64Array.from(latencies).sort();
    return {
      msgsPerSec: (n1 - n0) / seconds,
      messages: n1 - n0,
      seconds,
      failed: f1 - f0,
      firstError,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      probeFailures,
      clientCpuSeconds: (u1.user + u1.system) / 1e6,
    };
  } finally {
    await shutdownTolerantly(producer);
  }
}
