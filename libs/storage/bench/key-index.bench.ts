import { rmSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KeyIndex } from '../src/key-index/key-index';
import { indexKey, messageIdKey, type KeyIndexInput } from '../src/key-index/key-index-format';
import { envNumber, freshDir } from './common';

/**
 * Key index: insert rate, lookup latency and RSS with KEY_INDEX_KEYS distinct keys (default 10M),
 * default file geometry (4M slots, 4M entries per file). Appends go in batches of BATCH entries,
 * one batch per event-loop turn, with a flush (the caller's checkpoint) every FLUSH_EVERY batches.
 * Then LOOKUPS random lookups of known keys, of message ids and of unknown keys (limit 32), before
 * and after a clean reopen; latency per call with performance.now. The files are in the page cache.
 *
 * Run: esbuild libs/storage/bench/key-index.bench.ts --bundle --packages=external --platform=node
 *   --format=cjs --target=node20 --tsconfig=tsconfig.base.json --outdir=tmp/bench-key-index
 *   --log-level=warning && node tmp/bench-key-index/key-index.bench.js
 */

const KEYS = envNumber('KEY_INDEX_KEYS', 10_000_000);
const BATCH = envNumber('KEY_INDEX_BATCH', 1024);
const FLUSH_EVERY = envNumber('KEY_INDEX_FLUSH_EVERY', 64);
const LOOKUPS = envNumber('KEY_INDEX_LOOKUPS', 200_000);
const TOPIC = 'BenchTopic';
const T0 = 1_700_000_000_000;
const MiB = 1024 * 1024;

/** Key i belongs to message i; every 4th message also has its id indexed (ids share the count). */
function entryOf(i: number): KeyIndexInput {
  const key = i % 4 === 3 ? messageIdKey(`ID${i.toString(16).padStart(12, '0')}`) : indexKey(TOPIC, `order-${i}`);
  return { key, brokerIndex: i % 3, physicalOffset: i * 1024, storeTimeMs: T0 + Math.floor(i / 1000) };
}

function knownKey(i: number): string {
  return entryOf(i).key;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function lookups(index: KeyIndex, label: string, keyOf: (r: number) => string, expectHit: boolean): void {
  const times = new Float64Array(LOOKUPS);
  let hits = 0;
  for (let j = 0; j < LOOKUPS; j++) {
    const r = Math.floor(Math.random() * KEYS);
    const key = keyOf(r);
    const started = performance.now();
    const got = index.lookup(key, { limit: 32 });
    times[j] = performance.now() - started;
    if (got.candidates.some((c) => c.physicalOffset === r * 1024)) hits++;
  }
  times.sort();
  const ok = expectHit ? hits === LOOKUPS : hits === 0;
  console.log(
    `${label.padEnd(28)} p50 ${(percentile(times, 0.5) * 1000).toFixed(1)} µs  p99 ${(percentile(times, 0.99) * 1000).toFixed(1)} µs  ` +
      `max ${percentile(times, 1).toFixed(2)} ms  ${ok ? 'ok' : `WRONG (${hits} hits)`}`,
  );
}

function rssMiB(): string {
  return (process.memoryUsage().rss / MiB).toFixed(0);
}

async function main(): Promise<void> {
  const dir = freshDir('key-index');
  console.log(`key index: ${KEYS} keys, batches of ${BATCH}, flush every ${FLUSH_EVERY} batches, dir ${dir}`);
  let index = KeyIndex.open(dir);
  let peakRss = 0;
  const started = performance.now();
  const batch: KeyIndexInput[] = new Array(BATCH);
  for (let i = 0, b = 0; i < KEYS; b++) {
    const n = Math.min(BATCH, KEYS - i);
    batch.length = n;
    for (let j = 0; j < n; j++) batch[j] = entryOf(i + j);
    index.append(batch);
    i += n;
    if (b % FLUSH_EVERY === FLUSH_EVERY - 1) {
      await index.flush();
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    } else {
      await nextTurn();
    }
  }
  await index.flush();
  const insertSec = (performance.now() - started) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(`insert: ${(KEYS / insertSec / 1000).toFixed(0)}k entries/s (${insertSec.toFixed(1)} s incl. flushes); peak RSS ${(peakRss / MiB).toFixed(0)} MiB`);

  lookups(index, 'known key or id', knownKey, true);
  lookups(index, 'unknown key', (r) => indexKey(TOPIC, `missing-${r}`), false);
  console.log(`RSS after lookups ${rssMiB()} MiB`);
  await index.close();

  const opened = performance.now();
  index = KeyIndex.open(dir);
  console.log(`reopen: ${(performance.now() - opened).toFixed(0)} ms, ${index.openReport.entries} entries, ${index.openReport.files} files`);
  lookups(index, 'after reopen, known key or id', knownKey, true);
  lookups(index, 'after reopen, unknown key', (r) => indexKey(TOPIC, `missing-${r}`), false);
  console.log(`RSS at end ${rssMiB()} MiB (heap ${(process.memoryUsage().heapUsed / MiB).toFixed(0)} MiB)`);
  await index.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
