/**
 * Timer accuracy script (not a test): N delayed messages spread over a window, stored in a real
 * MessageStore as SendMessage stores them (telling the TimerStore of each, as SendMessage does), while a real TimerStore (100 ms tick) ingests and fires
 * them. Prints how late each fired message was stored in its topic (p50 / p99 / max, ms), how
 * many fired early (never expected), the bucket-in-memory peak and the process RSS peak.
 *
 *   npx tsx --tsconfig apps/broker/tsconfig.json apps/broker/bench/timer-accuracy.ts
 *   TIMER_BENCH_COUNT=1000000 npx tsx --tsconfig apps/broker/tsconfig.json apps/broker/bench/timer-accuracy.ts
 *
 * Knobs: TIMER_BENCH_COUNT (100000), TIMER_BENCH_SPREAD_MS (60000: due times uniform over it),
 * TIMER_BENCH_LEAD_MS (time before the first due time, default 5 s + 20 s per million, so the
 * sends finish first), TIMER_BENCH_BODY_BYTES (100).
 *
 * measureTimerAccuracy(count) is exported for other benchmarks (features.bench.ts); the script
 * part runs only when this file is the entry point.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, systemClock } from '@apogee/runtime';
import { MessageStore, MetadataStore, type MessageInput } from '@apogee/storage';
import { delayedInputOf, DELIVER_MS_PROPERTY } from '../src/timer/timer-message';
import { TIMER_CHECKPOINT_TABLE, TimerStore } from '../src/timer/timer-store';

function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${raw} is not a non-negative number`);
  return value;
}

const DEFAULT_SPREAD_MS = 60_000;
const DEFAULT_BODY_BYTES = 100;
const SEND_BATCH = 1_000;

const log = (line: string): void => void process.stderr.write(`[timer-bench] ${line}\n`);

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One timer-accuracy row, as printed by this script. */
export interface TimerAccuracyRow {
  timers: number;
  fired: number;
  early: number;
  'p50 late ms': number;
  'p99 late ms': number;
  'max late ms': number;
  'peak timers in memory': number;
  'peak RSS MiB': number;
}

/** Sends `COUNT` delayed messages, waits for them to fire and measures how late they were. */
export async function measureTimerAccuracy(
  COUNT: number,
  { SPREAD_MS = DEFAULT_SPREAD_MS, LEAD_MS = 5_000 + Math.ceil((COUNT / 1_000_000) * 20_000), BODY_BYTES = DEFAULT_BODY_BYTES } = {},
): Promise<TimerAccuracyRow> {
  const dir = mkdtempSync(path.join(tmpdir(), 'apogee-timer-bench-'));
  const lateness = new Float64Array(COUNT);
  let fired = 0;
  let early = 0;
  let peakLoaded = 0;
  let peakRss = 0;
  const store = await MessageStore.open({ dir: path.join(dir, 'store') });
  const meta = await MetadataStore.open(path.join(dir, 'meta'));
  const timer = await TimerStore.open({
    dir: path.join(dir, 'timer'),
    store,
    checkpoints: await meta.table<number>(TIMER_CHECKPOINT_TABLE),
    clock: systemClock,
    logger: createLogger({ app: 'timer-bench', level: 'warn' }),
    onFired: (dueMs, storedAtMs) => {
      if (storedAtMs < dueMs) early++;
      if (fired < COUNT) lateness[fired] = storedAtMs - dueMs;
      fired++;
    },
  });
  const sampler = setInterval(() => {
    peakLoaded = Math.max(peakLoaded, timer.loadedTimers);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    timer.start();
    const firstDue = Date.now() + LEAD_MS;
    log(`sending ${COUNT} delayed messages due over ${SPREAD_MS} ms, the first in ${LEAD_MS} ms`);
    const body = Buffer.alloc(BODY_BYTES, 'x');
    const sendStart = Date.now();
    for (let sent = 0; sent < COUNT; sent += SEND_BATCH) {
      const now = Date.now();
      const batch: MessageInput[] = [];
      for (let i = sent; i < Math.min(COUNT, sent + SEND_BATCH); i++) {
        const dueMs = firstDue + Math.floor(Math.random() * SPREAD_MS);
        const message = { topic: 'bench-delay', queueId: i % 8, body, messageId: `bench-${i}`, bornTimestampMs: now };
        batch.push(delayedInputOf(message, dueMs, now));
      }
      const results = await store.appendBatch(batch);
      results.forEach((result, k) => {
        if (!(result instanceof Error)) timer.noteSent(result, Number(batch[k].properties?.[DELIVER_MS_PROPERTY])); // as SendMessage does
      });
    }
    const sendMs = Date.now() - sendStart;
    log(`sent in ${sendMs} ms (${Math.round(COUNT / (sendMs / 1000))}/s); ${Date.now() < firstDue ? 'before' : 'AFTER'} the first due time`);
    const deadline = firstDue + SPREAD_MS + 30_000;
    while (fired < COUNT && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    clearInterval(sampler);
    await timer.close();
    await store.close();
    await meta.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = lateness.subarray(0, Math.min(fired, COUNT)).sort();
  return {
    timers: COUNT,
    fired,
    early,
    'p50 late ms': percentile(sorted, 50),
    'p99 late ms': percentile(sorted, 99),
    'max late ms': sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    'peak timers in memory': peakLoaded,
    'peak RSS MiB': Math.round(peakRss / 2 ** 20),
  };
}

async function main(): Promise<void> {
  const count = knob('TIMER_BENCH_COUNT', 100_000);
  const row = await measureTimerAccuracy(count, {
    SPREAD_MS: knob('TIMER_BENCH_SPREAD_MS', DEFAULT_SPREAD_MS),
    LEAD_MS: knob('TIMER_BENCH_LEAD_MS', 5_000 + Math.ceil((count / 1_000_000) * 20_000)),
    BODY_BYTES: knob('TIMER_BENCH_BODY_BYTES', DEFAULT_BODY_BYTES),
  });
  console.table([row]);
  if (row.fired !== count || row.early > 0) process.exitCode = 1;
}

if (/timer-accuracy\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
