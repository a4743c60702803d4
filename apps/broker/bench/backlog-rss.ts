/**
 * Backlog memory benchmark (`npm run bench:backlog`, or
 * `npx tsx --tsconfig tsconfig.base.json apps/broker/bench/backlog-rss.ts` after
 * `npx nx run broker:build`): does the broker's memory stay flat while a consumer group falls far
 * behind? Starts the built broker (dist/apps/broker/main.js, standalone, ASYNC flush, auto-create
 * topics and groups) on a temp dir, fills one topic with BACKLOG_MESSAGES messages (default 10M,
 * BACKLOG_BODY bytes each, default 1 KiB) with batched raw SendMessage calls (send-load.ts), and
 * samples the broker's RSS (/proc/<pid>/status VmRSS) meanwhile. Then a new consumer group drains
 * the first BACKLOG_DRAIN messages (default 100k) from the start of the backlog — served from disk —
 * while RSS is sampled again, and BrokerAdmin.GroupProgress reports the lag left.
 *
 * Needs about BACKLOG_MESSAGES × (body + ~200 B) of disk in the temp dir (10M × 1 KiB ≈ 12 GB);
 * refuses to start when less than twice that is free. Other knobs: BACKLOG_CHANNELS (4),
 * BACKLOG_INFLIGHT (16), BACKLOG_BATCH (32), BACKLOG_RECEIVERS (4), BACKLOG_SAMPLE_MS (250),
 * BENCH_BROKER_MAIN (the broker bundle).
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBrokerAdminClient } from '@apogee/protocol';
import { envNumber, fmt, progress, rawChannels, runSendLoad, sleep, startBroker, tempDir } from '@apogee/bench';
import { drain } from './consume';

const cfg = {
  messages: envNumber('BACKLOG_MESSAGES', 10_000_000),
  body: envNumber('BACKLOG_BODY', 1024),
  drain: envNumber('BACKLOG_DRAIN', 100_000),
  channels: envNumber('BACKLOG_CHANNELS', 4),
  inflight: envNumber('BACKLOG_INFLIGHT', 16),
  batch: envNumber('BACKLOG_BATCH', 32),
  receivers: envNumber('BACKLOG_RECEIVERS', 4),
  sampleMs: envNumber('BACKLOG_SAMPLE_MS', 250),
  brokerMain: process.env.BENCH_BROKER_MAIN ?? 'dist/apps/broker/main.js',
};
const MIB = 1024 * 1024;
const RECORD_OVERHEAD_BYTES = 200; // commit-log record header, properties, consume-queue entry (estimate)

/** A field of /proc/<pid>/status in bytes (0 once the process is gone). */
function statusBytes(pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** VmRSS of a process in bytes: anonymous memory plus mapped file pages (RssFile) and shmem. */
const rssBytes = (pid: number): number => statusBytes(pid, 'VmRSS');

/** Samples RSS every `intervalMs` until stopped: the peak, the last value and the count. */
class RssSampler {
  peak = 0;
  last = 0;
  /** Peak of the anonymous part (heap, buffers), which is what a backlog must not grow. */
  peakAnon = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    this.last = rssBytes(this.pid);
    this.peak = Math.max(this.peak, this.last);
    this.peakAnon = Math.max(this.peakAnon, statusBytes(this.pid, 'RssAnon'));
    this.samples++;
  }

  stop(): this {
    clearInterval(this.timer);
    this.sample();
    return this;
  }
}

const mib = (bytes: number): string => `${fmt(bytes / MIB, 1)} MiB`;


function checkDisk(dir: string): void {
  const { bavail, bsize } = statfsSync(dir);
  const free = bavail * bsize;
  const needed = cfg.messages * (cfg.body + RECORD_OVERHEAD_BYTES);
  progress(`disk: ${mib(free)} free in ${dir}, the backlog needs about ${mib(needed)}`);
  if (free < 2 * needed) {
    throw new Error(`not enough disk: ${mib(free)} free, want twice the ~${mib(needed)} the backlog takes; lower BACKLOG_MESSAGES`);
  }
}

async function main(): Promise<void> {
  // Bundled into tmp/bench-backlog, the protocol lib cannot find the repo's proto dir from its own path.
  if (!process.env.PROTO_DIR && existsSync(path.resolve('proto/apogee'))) process.env.PROTO_DIR = path.resolve('proto');
  checkDisk(tmpdir());
  const root = tempDir('apogee-bench-backlog-');
  const broker = await startBroker(cfg.brokerMain, path.join(root, 'data'));
  const topic = 'backlog';
  const group = 'backlog-reader';
  progress(`broker pid ${broker.pid} at ${broker.address}`);
  const clients = rawChannels(broker.address, Math.max(cfg.channels, cfg.receivers));
  const admin = createBrokerAdminClient(broker.address);
  try {
    await sleep(1_000);
    const idle = rssBytes(broker.pid);
    progress(`idle RSS ${mib(idle)}; filling ${fmt(cfg.messages)} messages of ${cfg.body} B`);

    const fillRss = new RssSampler(broker.pid, cfg.sampleMs);
    const report = setInterval(() => progress(`filling… RSS ${mib(fillRss.last)} (peak ${mib(fillRss.peak)})`), 10_000);
    const fill = await runSendLoad(clients.slice(0, cfg.channels), {
      topic,
      batch: cfg.batch,
      bodyBytes: cfg.body,
      inflight: cfg.inflight,
      totalMessages: cfg.messages,
    }).finally(() => clearInterval(report));
    fillRss.stop();
    if (fill.failedRequests) throw new Error(`backlog fill: ${fill.failedRequests} failed requests: ${fill.firstError}`);
    progress(`filled ${fmt(fill.messages)} in ${fill.seconds.toFixed(1)} s (${fmt(fill.msgsPerSec)} msg/s); RSS ${mib(fillRss.last)}`);

    await sleep(2_000);
    const settled = rssBytes(broker.pid);
    const settledFile = statusBytes(broker.pid, 'RssFile');
    progress(`draining the first ${fmt(cfg.drain)} with group ${group} (${cfg.receivers} receivers, batch 32)`);
    const drainRss = new RssSampler(broker.pid, cfg.sampleMs);
    const drained = await drain(clients.slice(0, cfg.receivers), group, topic, Math.min(cfg.drain, fill.messages), 32, false);
    drainRss.stop();
    progress(`drained ${fmt(drained.received)} (acked ${fmt(drained.acked)}) in ${drained.seconds.toFixed(1)} s${drained.note ? ` — ${drained.note}` : ''}`);

    const { queues = [] } = await admin.call('GroupProgress', { group }, { timeoutMs: 30_000 });
    const lag = queues.reduce((sum, q) => sum + Number(q.lag ?? 0), 0);
    const lagSeconds = queues.reduce((most, q) => Math.max(most, q.lag_seconds ?? 0), 0);

    const millions = fill.messages / 1e6;
    const rows: { measure: string; result: string }[] = [
      { measure: 'messages stored', result: fmt(fill.messages) },
      { measure: 'fill rate, msg/s', result: fmt(fill.msgsPerSec) },
      { measure: 'RSS idle (before the fill)', result: mib(idle) },
      { measure: 'RSS peak during the fill', result: `${mib(fillRss.peak)} (anon peak ${mib(fillRss.peakAnon)})` },
      { measure: 'RSS after the fill (2 s settle)', result: `${mib(settled)} (file-backed ${mib(settledFile)})` },
      { measure: 'RSS peak while draining from the start', result: `${mib(drainRss.peak)} (anon peak ${mib(drainRss.peakAnon)})` },
      { measure: 'RSS after draining', result: mib(drainRss.last) },
      { measure: 'RSS growth per million stored (peak − idle)', result: mib((Math.max(fillRss.peak, drainRss.peak) - idle) / millions) },
      { measure: 'RSS per million stored (after fill / M)', result: mib(settled / millions) },
      { measure: 'drain rate, msg/s', result: fmt(drained.msgsPerSec) },
      { measure: 'group lag after the drain (GroupProgress)', result: `${fmt(lag)} msgs, ${lagSeconds.toFixed(1)} s` },
    ];
    console.log(`\n## apogee backlog RSS (${new Date().toISOString()}, node ${process.version}, ${fmt(cfg.messages)} × ${cfg.body} B)\n`);
    const width = Math.max(...rows.map((r) => r.measure.length));
    for (const row of rows) console.log(`${row.measure.padEnd(width)} | ${row.result}`);
    console.log(`\n${fillRss.samples + drainRss.samples} RSS samples every ${cfg.sampleMs} ms; broker ${cfg.brokerMain}, flush ASYNC.`);
  } finally {
    admin.close();
    for (const client of clients) client.close();
    await broker.stop(30_000);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
