/**
 * Feature benchmark (`npm run bench:features`; a benchmark, not a test): one run prints
 *   timer    timer accuracy — p50/p99/max lateness of delayed messages fired by a real TimerStore
 *            over a real MessageStore, in this process, with 100k and 1M pending timers
 *            (measureTimerAccuracy of timer-accuracy.ts, run once per count);
 *   fifo     FIFO vs NORMAL send throughput — the built broker (dist/apps/broker/main.js, standalone,
 *            ASYNC flush, temp data dir, port 0) as a child process; the same number of 1 KiB
 *            messages, batched BENCH_BATCH per SendMessage over BENCH_CHANNELS connections ×
 *            BENCH_INFLIGHT requests each, to a NORMAL topic and to a FIFO topic with
 *            message_group cycling over BENCH_GROUPS groups: msg/s of each and FIFO/NORMAL;
 *   tx       transaction throughput — TRANSACTION messages (one per SendMessage, TRANSACTION topic)
 *            each committed with EndTransaction COMMIT as soon as its send answers, vs NORMAL
 *            single-message sends, same count and BENCH_CHANNELS × BENCH_TX_INFLIGHT in flight:
 *            msg/s of each and TX/NORMAL;
 *   backlog  broker RSS with a 10M-message backlog — not run by default (about 25 GB of disk and
 *            minutes): prints `npm run bench:backlog`; with BENCH_FEATURES_BACKLOG=1 it spawns
 *            backlog-rss.ts (bundled next to this file), which has no exported measurement.
 * Topics are created with BrokerAdmin CreateTopic (NORMAL / FIFO / TRANSACTION, 8 queues). Each
 * send part first runs a NORMAL warm-up of about one second that also calibrates how many messages
 * make BENCH_SECONDS of NORMAL sending; both sides of a ratio then send exactly that many, timed
 * from the first request to the last answer (load generators in feature-load.ts), BENCH_ROUNDS
 * times each in alternating order; the best run of each side is printed.
 *
 * Knobs (env): BENCH_ONLY (timer,fifo,tx,backlog), BENCH_TIMERS (100000,1000000), BENCH_SECONDS
 * (10), BENCH_FIFO_MESSAGES / BENCH_TX_MESSAGES (fixed counts instead of the calibration),
 * BENCH_GROUPS (1000), BENCH_CHANNELS (4), BENCH_INFLIGHT (16), BENCH_BATCH (32), BENCH_BODY
 * (1024), BENCH_TX_INFLIGHT (16 per connection), BENCH_ROUNDS (2), BENCH_FEATURES_BACKLOG=1, BENCH_BROKER_MAIN.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createBrokerAdminClient, type AdminMessageType, type BrokerAdminClient } from '@apogee/protocol';
import { envNumber, fmt, progress, rawChannels, reportFailedParts, runBenchMain, type Service, startBroker, tempDir } from '@apogee/bench';
import { runBatchLoad, runTxLoad, templatesFor, type LoadResult } from './feature-load';
import { measureTimerAccuracy, type TimerAccuracyRow } from './timer-accuracy';

const cfg = {
  seconds: envNumber('BENCH_SECONDS', 10),
  timers: (process.env.BENCH_TIMERS ?? '100000,1000000').split(',').filter((s) => s.trim() !== '').map(Number),
  fifoMessages: envNumber('BENCH_FIFO_MESSAGES', 0),
  txMessages: envNumber('BENCH_TX_MESSAGES', 0),
  groups: envNumber('BENCH_GROUPS', 1000),
  channels: envNumber('BENCH_CHANNELS', 4),
  inflight: envNumber('BENCH_INFLIGHT', 16),
  batch: envNumber('BENCH_BATCH', 32),
  body: envNumber('BENCH_BODY', 1024),
  txInflight: envNumber('BENCH_TX_INFLIGHT', 16),
  runBacklog: process.env.BENCH_FEATURES_BACKLOG === '1',
  brokerMain: process.env.BENCH_BROKER_MAIN ?? 'dist/apps/broker/main.js',
};
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const enabled = (part: string): boolean => !only || only.includes(part);
const runTag = randomBytes(3).toString('hex');
const WARMUP_MS = 1_000;
const rounds = Math.max(1, envNumber('BENCH_ROUNDS', 2));


async function createTopic(admin: BrokerAdminClient, name: string, type: AdminMessageType): Promise<string> {
  await admin.call('CreateTopic', { name, message_type: type, read_queue_count: 8, write_queue_count: 8 });
  return name;
}

const rate = (r: LoadResult): string =>
  `${fmt(r.msgsPerSec)} msg/s (${fmt(r.messages)} in ${r.seconds.toFixed(2)} s${r.failed ? `; ${r.failed} failed: ${r.firstError}` : ''})`;
const ratio = (a: LoadResult, b: LoadResult): string => `${(a.msgsPerSec / b.msgsPerSec).toFixed(2)}× (${((a.msgsPerSec / b.msgsPerSec) * 100).toFixed(0)}%)`;
const roundTo = (n: number, step: number): number => Math.max(step, Math.round(n / step) * step);

/** NORMAL warm-up runs (grown until one lasts WARMUP_MS, then once more): how many messages make `seconds` at that rate. */
async function calibrate(warm: (count: number) => Promise<LoadResult>, guess: number, step: number): Promise<number> {
  let count = guess;
  for (;;) {
    const r = await warm(count);
    if (r.failed) throw new Error(`warm-up failed: ${r.firstError}`);
    if (r.seconds * 1000 < WARMUP_MS && count < 10_000_000) {
      count *= 4;
      continue;
    }
    const again = await warm(count); // the first one-second run is still warming up the broker
    if (again.failed) throw new Error(`warm-up failed: ${again.firstError}`);
    return roundTo(Math.max(r.msgsPerSec, again.msgsPerSec) * cfg.seconds, step);
  }
}

/** `rounds` runs of each side, the order alternating (a b, b a, …) so neither always runs warmer; the best run of each. */
async function alternate(a: () => Promise<LoadResult>, b: () => Promise<LoadResult>): Promise<[LoadResult, LoadResult]> {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  const best = (list: LoadResult[]): LoadResult =>
    list.reduce((x, y) => (y.failed < x.failed || (y.failed === x.failed && y.msgsPerSec > x.msgsPerSec) ? y : x));
  return [best(as), best(bs)];
}

async function timerPart(out: string[]): Promise<boolean> {
  let ok = true;
  const rows: TimerAccuracyRow[] = [];
  for (const count of cfg.timers) {
    progress(`timer: ${fmt(count)} pending timers (60 s spread; takes over a minute)`);
    const row = await measureTimerAccuracy(count);
    rows.push(row);
    if (row.fired !== count || row.early > 0) ok = false;
  }
  out.push('### (1) timer accuracy (in-process TimerStore + MessageStore, 100 ms tick, due times uniform over 60 s)', '');
  out.push('| pending timers | fired | early | p50 late ms | p99 late ms | max late ms | peak timers in memory | peak RSS MiB (this process) |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(`| ${fmt(r.timers)} | ${fmt(r.fired)} | ${r.early} | ${r['p50 late ms']} | ${r['p99 late ms']} | ${r['max late ms']} | ${fmt(r['peak timers in memory'])} | ${r['peak RSS MiB']} |`);
  }
  out.push('');
  return ok;
}

async function fifoPart(broker: Service, admin: BrokerAdminClient, out: string[]): Promise<boolean> {
  const clients = rawChannels(broker.address, cfg.channels);
  try {
    const templateCount = templatesFor(cfg.groups, cfg.batch);
    const shape = { batch: cfg.batch, bodyBytes: cfg.body, inflight: cfg.inflight, templateCount };
    const warmTopic = await createTopic(admin, `feat-warm-${runTag}`, 'NORMAL');
    const step = cfg.batch * cfg.channels * cfg.inflight;
    const total =
      cfg.fifoMessages > 0
        ? cfg.fifoMessages
        : await calibrate((n) => runBatchLoad(clients, { ...shape, topic: warmTopic, kind: { type: 'NORMAL' }, totalMessages: n }), 20_000, step);
    const normalTopic = await createTopic(admin, `feat-normal-${runTag}`, 'NORMAL');
    const fifoTopic = await createTopic(admin, `feat-fifo-${runTag}`, 'FIFO');
    const [normal, fifo] = await alternate(
      () => {
        progress(`fifo: ${fmt(total)} × ${cfg.body} B, ${cfg.batch} per request, ${cfg.channels} connections × ${cfg.inflight} in flight — NORMAL topic`);
        return runBatchLoad(clients, { ...shape, topic: normalTopic, kind: { type: 'NORMAL' }, totalMessages: total });
      },
      () => {
        progress(`fifo: the same load to a FIFO topic over ${fmt(cfg.groups)} message groups`);
        return runBatchLoad(clients, { ...shape, topic: fifoTopic, kind: { type: 'FIFO', groups: cfg.groups }, totalMessages: total });
      },
    );
    out.push(`### (2) FIFO with ${fmt(cfg.groups)} message groups vs NORMAL (${fmt(total)} × ${cfg.body} B per run, ${cfg.batch}/request, ${cfg.channels} conns × ${cfg.inflight} in flight; best of ${rounds})`, '');
    out.push(`- NORMAL topic: ${rate(normal)}`);
    out.push(`- FIFO topic:   ${rate(fifo)}`);
    out.push(`- FIFO / NORMAL: ${ratio(fifo, normal)}`, '');
    return normal.failed === 0 && fifo.failed === 0;
  } finally {
    clients.forEach((c) => c.close());
  }
}

async function txPart(broker: Service, admin: BrokerAdminClient, out: string[]): Promise<boolean> {
  const clients = rawChannels(broker.address, cfg.channels);
  try {
    const shape = { bodyBytes: cfg.body, inflight: cfg.txInflight };
    const warmTopic = await createTopic(admin, `feat-txwarm-${runTag}`, 'NORMAL');
    const step = cfg.channels * cfg.txInflight;
    const total =
      cfg.txMessages > 0 ? cfg.txMessages : await calibrate((n) => runTxLoad(clients, { ...shape, topic: warmTopic, commit: false, totalMessages: n }), 2_000, step);
    const normalTopic = await createTopic(admin, `feat-txnormal-${runTag}`, 'NORMAL');
    const txTopic = await createTopic(admin, `feat-tx-${runTag}`, 'TRANSACTION');
    const inFlight = cfg.channels * cfg.txInflight;
    const [normal, tx] = await alternate(
      () => {
        progress(`tx: ${fmt(total)} × ${cfg.body} B, 1 per request, ${inFlight} in flight — NORMAL send`);
        return runTxLoad(clients, { ...shape, topic: normalTopic, commit: false, totalMessages: total });
      },
      () => {
        progress(`tx: ${fmt(total)} TRANSACTION sends, each followed by EndTransaction COMMIT`);
        return runTxLoad(clients, { ...shape, topic: txTopic, commit: true, totalMessages: total });
      },
    );
    out.push(`### (3) transaction send + commit vs NORMAL send (${fmt(total)} × ${cfg.body} B per run, 1/request, ${cfg.channels} conns × ${cfg.txInflight} = ${inFlight} in flight; best of ${rounds})`, '');
    out.push(`- NORMAL send:                    ${rate(normal)}`);
    out.push(`- TRANSACTION send + COMMIT:      ${rate(tx)}`);
    out.push(`- TX / NORMAL: ${ratio(tx, normal)}`, '');
    return normal.failed === 0 && tx.failed === 0;
  } finally {
    clients.forEach((c) => c.close());
  }
}

function backlogPart(out: string[]): Promise<boolean> {
  out.push('### (4) broker RSS with a 10M-message backlog', '');
  if (!cfg.runBacklog) {
    out.push('- not run (needs ~25 GB of disk and minutes): run `npm run bench:backlog`, or this benchmark with BENCH_FEATURES_BACKLOG=1 (BACKLOG_* knobs apply)', '');
    return Promise.resolve(true);
  }
  out.push('- run above (backlog-rss.ts output)', '');
  progress('backlog: spawning backlog-rss (BACKLOG_MESSAGES, default 10M)');
  const child = spawn(process.execPath, [path.join(__dirname, 'backlog-rss.js')], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code === 0)));
}

async function main(): Promise<void> {
  // Bundled into tmp/bench-features, the protocol lib cannot find the repo's proto dir from its own path.
  if (!process.env.PROTO_DIR && existsSync(path.resolve('proto/apogee'))) process.env.PROTO_DIR = path.resolve('proto');
  const out: string[] = [];
  const fails: string[] = [];
  const guard = async (part: string, fn: () => Promise<boolean>): Promise<void> => {
    try {
      if (!(await fn())) fails.push(`${part}: some operations failed or timers were missing/early (see above)`);
    } catch (err) {
      fails.push(`${part}: ${(err as Error).stack ?? String(err)}`);
      progress(`${part} FAILED: ${(err as Error).message}`);
    }
  };

  if (enabled('timer')) await guard('timer', () => timerPart(out));
  if (enabled('fifo') || enabled('tx')) {
    const broker = await startBroker(cfg.brokerMain, path.join(tempDir('apogee-bench-features-'), 'data'));
    progress(`broker pid ${broker.pid} at ${broker.address}`);
    const admin = createBrokerAdminClient(broker.address);
    try {
      if (enabled('fifo')) await guard('fifo', () => fifoPart(broker, admin, out));
      if (enabled('tx')) await guard('tx', () => txPart(broker, admin, out));
    } finally {
      admin.close();
      await broker.stop(30_000);
    }
  }
  if (enabled('backlog')) await guard('backlog', () => backlogPart(out));

  console.log(`\n## apogee feature benchmark (${new Date().toISOString()}, node ${process.version}, run ${runTag})\n`);
  for (const line of out) console.log(line);
  reportFailedParts(fails);
}

runBenchMain(main);
