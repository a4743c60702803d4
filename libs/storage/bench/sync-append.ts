import { rmSync } from 'node:fs';
import { MessageStore } from '../src/message-store';
import { freshDir, messageFactory, progress } from './common';
import { percentile, Samples } from './report';

/**
 * 3. SYNC append (group commit): `appenders` concurrent loops, each `await store.append(msg)` for
 * `durationMs`; every acknowledgement means the record was fdatasync'ed. Latency is per append,
 * from the call to the resolution of its promise.
 */

export interface SyncOptions {
  readonly appenders: number;
  readonly bodyBytes: number;
  readonly durationMs: number;
}

export interface SyncResult {
  readonly appenders: number;
  readonly messages: number;
  readonly recordSize: number;
  readonly msgsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuUsPerMsg: number;
}

export async function measureSyncAppend(o: SyncOptions): Promise<SyncResult> {
  const dir = freshDir(`sync-${o.appenders}`);
  const message = messageFactory(o.bodyBytes);
  const latencies = new Samples();
  let next = 0;
  let recordSize = 0;
  try {
    const store = await MessageStore.open({ dir, flushMode: 'SYNC' });
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const deadline = started + o.durationMs;
    const appender = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const r = await store.append(message(next++));
        latencies.push(performance.now() - t0);
        recordSize = r.totalBytes;
      }
    };
    await Promise.all(Array.from({ length: o.appenders }, appender));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await store.close();
    const lat = latencies.values();
    const result: SyncResult = {
      appenders: o.appenders,
      messages: lat.length,
      recordSize,
      msgsPerSec: lat.length / seconds,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      maxMs: percentile(lat, 100),
      cpuUsPerMsg: (cpu.user + cpu.system) / lat.length,
    };
    progress(
      `sync n=${o.appenders}: ${result.messages} msgs, ${Math.round(result.msgsPerSec)}/s, ` +
        `p50 ${result.p50Ms.toFixed(2)} p99 ${result.p99Ms.toFixed(2)} max ${result.maxMs.toFixed(1)} ms, ` +
        `${result.cpuUsPerMsg.toFixed(1)} µs CPU/msg`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
