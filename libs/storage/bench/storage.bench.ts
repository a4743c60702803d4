import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { measureAsyncAppend, type AsyncResult } from './async-append';
import { envNumber, progress } from './common';
import { measureCqReads } from './cq-read';
import { measureFlatMemory } from './flat-memory';
import { measureRawWrite, type RawResult } from './raw-write';
import { measureRecovery } from './recovery';
import { GiB, machineFacts, markdownTable, MB, MiB, percentile, textTable, type Row } from './report';
import { measureSyncAppend } from './sync-append';

/**
 * The storage engine benchmark (`npm run bench:storage`): every figure of one run, each with its
 * ratio to the raw disk baseline measured in the same run and folder. Knobs (environment):
 * BENCH_DIR (temp root), BENCH_REPORT (markdown output file), BENCH_RAW_GB, BENCH_ASYNC_GB,
 * BENCH_ASYNC_BODIES, BENCH_ASYNC_BATCH, BENCH_ASYNC_REPEAT (runs of the targeted 1 KiB × batch case, each after
 * its own raw run; the median counts), BENCH_ASYNC_MIN_S, BENCH_ASYNC_MAX_S, BENCH_OUTSTANDING_MIB, BENCH_SYNC_S,
 * BENCH_READ_S, BENCH_RECOVERY_GB, BENCH_FLAT_MEMORY_GB, BENCH_ONLY (comma list of
 * async,read,sync,recovery,memory; the raw baseline always runs).
 *
 * `npm run bench:storage` bundles these files with esbuild, as the apps' production build does,
 * and runs the bundle with node. Running the source with tsx also works, but measures slower
 * engine code: tsx compiles file by file to CommonJS, so every cross-module constant (`L.AT_*` of
 * record-layout) and imported function is read through an export getter on the hot paths.
 */

const cfg = {
  rawBytes: envNumber('BENCH_RAW_GB', 1) * GiB,
  asyncBytes: envNumber('BENCH_ASYNC_GB', 1) * GiB,
  asyncBodies: (process.env.BENCH_ASYNC_BODIES ?? '128,1024,4096').split(',').map(Number),
  asyncBatch: envNumber('BENCH_ASYNC_BATCH', 32),
  asyncRepeat: envNumber('BENCH_ASYNC_REPEAT', 3),
  asyncMinMs: envNumber('BENCH_ASYNC_MIN_S', 3) * 1000,
  asyncMaxMs: envNumber('BENCH_ASYNC_MAX_S', 30) * 1000,
  outstanding: envNumber('BENCH_OUTSTANDING_MIB', 8) * MiB,
  syncMs: envNumber('BENCH_SYNC_S', 3) * 1000,
  readMs: envNumber('BENCH_READ_S', 2) * 1000,
  recoveryBytes: envNumber('BENCH_RECOVERY_GB', 1) * GiB,
  flatMemoryBytes: envNumber('BENCH_FLAT_MEMORY_GB', 5) * 1e9,
};
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const enabled = (part: string): boolean => !only || only.includes(part);
const benchDir = process.env.BENCH_DIR ?? tmpdir();
const mbps = (bytesPerSec: number): number => bytesPerSec / MB;
const count = (n: number): string => n.toLocaleString('en-US');

const TARGET_60 = '≥ 60% of raw';
const rows: Row[] = [];
const notes: string[] = [];
const rawRuns: RawResult[] = [];

function add(name: string, value: number, unit: string, extra: Partial<Row> = {}): void {
  rows.push({ name, value, unit, ...extra });
}

async function raw(): Promise<void> {
  const r = await measureRawWrite(benchDir, cfg.rawBytes);
  const before = `${mbps(r.writeBytesPerSec).toFixed(0)} before it, sync ${r.syncMs.toFixed(0)} ms`;
  progress(`raw: ${mbps(r.bytesPerSec).toFixed(0)} MB/s incl. sync (${before})`);
  rawRuns.push(r);
}

function asyncOptions(bodyBytes: number, minMs: number, batch = 1): Parameters<typeof measureAsyncAppend>[0] {
  const limits = { targetBytes: cfg.asyncBytes, minMs, maxMs: cfg.asyncMaxMs, maxOutstandingBytes: cfg.outstanding };
  return { bodyBytes, batch, ...limits };
}

/**
 * 1 + 2: a raw run before each ASYNC run, so the baseline sees the same disk conditions. Every
 * size is appended one message per call; 1 KiB also BENCH_ASYNC_BATCH (32) per appendBatch call,
 * the path a multi-message SendMessage takes, which carries the 60% target: that case runs
 * BENCH_ASYNC_REPEAT times (as the raw figure is a median) and its median run is reported. This
 * VM's speed drifts from minute to minute; one run can land in a slow stretch.
 */
async function asyncPhase(): Promise<string | null> {
  let kept: string | null = null;
  for (const bodyBytes of cfg.asyncBodies) {
    // The targeted case first: the one-per-call run keeps its store for the read phase, and runs
    // after a kept store write into page-cache pages this VM has not handed out before, which
    // cost more (NODE-PERFORMANCE.md §10) and would measure the VM rather than the engine.
    const batches = bodyBytes === 1024 ? [cfg.asyncBatch, 1] : [1];
    for (const batch of batches) {
      const targeted = bodyBytes === 1024 && batch === cfg.asyncBatch;
      const keep = bodyBytes === 1024 && batch === 1 && enabled('read');
      const runs: AsyncResult[] = [];
      for (let i = 0; i < (targeted ? cfg.asyncRepeat : 1); i++) {
        await raw();
        const run = await measureAsyncAppend({ ...asyncOptions(bodyBytes, cfg.asyncMinMs, batch), keep });
        const adjacent = rawRuns[rawRuns.length - 1].bytesPerSec;
        if (targeted) notes.push(`ASYNC ${bodyBytes} B ×${batch} run ${i + 1}: ${mbps(run.bytesPerSec).toFixed(0)} MB/s, ${((100 * run.bytesPerSec) / adjacent).toFixed(0)}% of the raw run just before it.`);
        runs.push(run);
      }
      const r = runs.sort((a, b) => a.bytesPerSec - b.bytesPerSec)[Math.floor(runs.length / 2)];
      if (keep) kept = r.dir;
      const target = targeted ? { target: TARGET_60 } : {};
      const name = `ASYNC append, ${bodyBytes} B body, ${batch === 1 ? 'one per call' : `${batch} per appendBatch`}${runs.length > 1 ? ` (median of ${runs.length})` : ''}`;
      add(`${name} (${r.recordSize} B records)`, mbps(r.bytesPerSec), 'MB/s', { bytesPerSec: r.bytesPerSec, ...target });
      add(name, r.msgsPerSec, 'msgs/s', { bytesPerSec: r.bytesPerSec });
      notes.push(
        `ASYNC ${bodyBytes} B ×${batch}: ${count(r.messages)} messages, ${(r.recordBytes / GiB).toFixed(2)} GiB; ` +
          `${mbps(r.ackedBytesPerSec).toFixed(0)} MB/s until the last ack, close ${r.closeMs.toFixed(0)} ms; ` +
          `${r.cpuUsPerMsg.toFixed(2)} µs process CPU per message; event-loop utilization ${r.elu.toFixed(2)}.`,
      );
    }
  }
  return kept;
}
/** 3. */
async function syncPhase(): Promise<void> {
  for (const appenders of [1, 16, 256]) {
    const r = await measureSyncAppend({ appenders, bodyBytes: 1024, durationMs: cfg.syncMs });
    const name = `SYNC append 1 KiB, ${appenders} appender${appenders > 1 ? 's' : ''}`;
    const msgsTarget = appenders === 256 ? { target: '≥ 50k/s', pass: r.msgsPerSec >= 50e3 } : {};
    add(name, r.msgsPerSec, 'msgs/s', { bytesPerSec: r.msgsPerSec * r.recordSize, ...msgsTarget });
    add(`${name}: p50 latency`, r.p50Ms, 'ms');
    add(`${name}: p99 latency`, r.p99Ms, 'ms', appenders === 1 ? { target: '≤ 2 ms', pass: r.p99Ms <= 2 } : {});
    notes.push(
      `SYNC n=${appenders}: ${count(r.messages)} messages in ${cfg.syncMs / 1000} s, max latency ${r.maxMs.toFixed(1)} ms, ` +
        `${r.cpuUsPerMsg.toFixed(1)} µs process CPU per message.`,
    );
  }
}

/** 4. Reads the store kept by the ASYNC 1 KiB run (or fills one). */
async function readPhase(kept: string | null): Promise<void> {
  const dir = kept ?? (await measureAsyncAppend({ ...asyncOptions(1024, 0), keep: true })).dir;
  try {
    const r = await measureCqReads({ dir, run: 32, minMs: cfg.readMs });
    const target = (v: number): Partial<Row> => ({ target: '≥ 500k/s', pass: v >= 500e3 });
    add('consume-queue entries(…, 32), sequential runs', r.sequentialEntriesPerSec, 'entries/s', target(r.sequentialEntriesPerSec));
    add('consume-queue entries(…, 32), random starts', r.randomEntriesPerSec, 'entries/s', target(r.randomEntriesPerSec));
    add('readQueue(…, 32): entries + record reads', r.readQueueMsgsPerSec, 'msgs/s', { bytesPerSec: r.readQueueBytesPerSec });
    notes.push(
      `Reads: ${count(r.queueEntries)} entries in 8 queues of a 1 KiB-body store, page cache warm; ` +
        `readQueue ${mbps(r.readQueueBytesPerSec).toFixed(0)} MB/s of records.`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 5. */
async function recoveryPhase(): Promise<void> {
  const r = await measureRecovery({ targetBytes: cfg.recoveryBytes, bodyBytes: 1024, maxOutstandingBytes: cfg.outstanding });
  const runs = [
    ['recovery after SIGKILL, no checkpoint (page cache warm)', r.warm, true],
    ['same recovery, cold page cache (read from disk)', r.cold, false],
    ['consume-queue rebuild (consumequeue/ deleted)', r.rebuild, true],
  ] as const;
  for (const [name, run, targeted] of runs) {
    if (!run) continue;
    const target = targeted ? { target: '≤ 5 s/GB', pass: run.secondsPerGB <= 5 } : {};
    add(name, run.secondsPerGB, 's/GB', { bytesPerSec: run.bytesPerSec, ...target });
  }
  const w = r.warm.report;
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const torn = w.corruption ? `${w.corruption.reason}, ${w.bytesCut} B cut` : 'none';
  notes.push(
    `Recovery: ${(r.logBytes / 1e9).toFixed(3)} GB log of 1 KiB bodies, ${count(w.recordsScanned)} records scanned and ` +
      `re-dispatched each time; warm ${s(r.warm.ms)}, cold ${r.cold ? s(r.cold.ms) : 'skipped'}, rebuild ${s(r.rebuild.ms)}; ` +
      `torn tail after the kill: ${torn}. GB = 10^9 bytes; ratio = scan rate ÷ raw write rate.`,
  );
}

/** 6. */
async function memoryPhase(): Promise<void> {
  const r = await measureFlatMemory({ totalBytes: cfg.flatMemoryBytes, bodyBytes: 4096, maxOutstandingBytes: cfg.outstanding });
  const name = `flat memory: max RSS appending ${(r.recordBytes / 1e9).toFixed(1)} GB (4 KiB bodies)`;
  add(name, r.maxRssMB, 'MB', { target: '< 300 MB', pass: r.maxRssMB < 300 });
  const kept = r.retention ? `${r.segmentsDeleted} segments of 256 MiB deleted by retention on the way` : 'no retention (data kept)';
  notes.push(
    `Flat memory: RSS once a second (MB): ${r.rssSamplesMB.join(' ')}; kernel peak (VmHWM) ${r.peakRssMB.toFixed(0)} MB, ` +
      `heapUsed max ${r.maxHeapUsedMB.toFixed(0)} MB, arrayBuffers max ${r.maxArrayBuffersMB.toFixed(0)} MB; ` +
      `${mbps(r.recordBytes / r.seconds).toFixed(0)} MB/s; ${kept}.`,
  );
}

/** Runs one phase; a failure becomes a FAIL row and a note instead of ending the run. */
async function guarded(name: string, phase: () => Promise<void>): Promise<void> {
  try {
    await phase();
  } catch (err) {
    progress(`${name} failed: ${(err as Error).stack}`);
    add(`${name}: FAILED (see notes)`, NaN, '', { pass: false });
    notes.push(`${name} failed: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const how = __filename.endsWith('.ts') ? 'tsx, from source' : 'esbuild bundle';
  const facts = [...machineFacts(benchDir), `running: ${basename(__filename)} (${how})`];
  console.log(['Apogee storage benchmark', ...facts.map((f) => `  ${f}`)].join('\n'));
  let kept: string | null = null;
  if (enabled('async')) await guarded('ASYNC append', async () => void (kept = await asyncPhase()));
  if (rawRuns.length === 0) await raw();
  const rawBps = percentile(rawRuns.map((r) => r.bytesPerSec), 50);
  const rawName = `raw write: 1 MiB pwrite + final fdatasync (median of ${rawRuns.length})`;
  rows.unshift({ name: rawName, value: mbps(rawBps), unit: 'MB/s', bytesPerSec: rawBps, target: 'baseline' });
  const runs = rawRuns.map((r) => mbps(r.bytesPerSec).toFixed(0)).join(', ');
  notes.unshift(`Raw runs, MB/s including the final fdatasync (${(cfg.rawBytes / GiB).toFixed(1)} GiB each): ${runs}.`);
  const oneK = rows.find((r) => r.target === TARGET_60);
  if (oneK) Object.assign(oneK, { pass: (oneK.bytesPerSec ?? 0) >= 0.6 * rawBps });

  if (enabled('sync')) await guarded('SYNC append', syncPhase);
  if (enabled('read')) await guarded('consume-queue reads', () => readPhase(kept));
  if (enabled('recovery')) await guarded('recovery', recoveryPhase);
  if (enabled('memory')) await guarded('flat memory', memoryPhase);

  console.log(`\n${textTable(rows, rawBps)}\n`);
  for (const n of notes) console.log(`- ${n}`);
  if (process.env.BENCH_REPORT) {
    const md = [...facts.map((f) => `- ${f}`), '', markdownTable(rows, rawBps), '', ...notes.map((n) => `- ${n}`), ''];
    writeFileSync(process.env.BENCH_REPORT, md.join('\n'));
    progress(`markdown written to ${process.env.BENCH_REPORT}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
