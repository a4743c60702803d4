/**
 * The broker benchmark (`npm run bench:broker`): one run starts the built broker
 * (dist/apps/broker/main.js, standalone, ASYNC flush, auto-create topics and groups, data in a
 * temp dir, port 0) and a trivial grpc-js MessagingService (trivial-server.ts) as child
 * processes, and measures:
 *   a  official rocketmq-client-nodejs Producer, 64 sends in flight, 1 KiB: msg/s, vs trivial
 *   b  raw SendMessage load, batches of 32 × 1 KiB over 4 connections: msg/s, vs trivial, and
 *      messages per broker CPU-second (/proc/<pid>/stat utime+stime around the window)
 *   c  drain of a 200k backlog (pre-filled by b's generator) with ReceiveMessage batch 32 and
 *      several receivers, acking every message: msg/s
 *   d  end-to-end latency at a steady 5,000 msg/s, open loop, long-polling receivers
 * and prints each result with its ratio to the trivial ceiling and its target.
 *
 * Knobs (env): BENCH_ONLY (e.g. a,b), BENCH_SECONDS (measured window of a, b, d; 10),
 * BENCH_WARMUP_SECONDS (2), BENCH_LATENCY_WARMUP_SECONDS (d's, 5: with 2 the
 * first seconds' backlog of a cold broker and cold receivers still drained into the measured window), BENCH_BACKLOG (200000), BENCH_RATE (5000), BENCH_CHANNELS (4),
 * BENCH_INFLIGHT (requests per channel in b; 16), BENCH_BATCH (32), BENCH_BODY (1024),
 * BENCH_PRODUCER_INFLIGHT (64), BENCH_RECEIVERS (4), BENCH_LATENCY_SEND_BATCH (most messages per
 * SendMessage in d, which sends the messages due in each ~1 ms tick together; 32), BENCH_ACK_EACH=1 (one AckMessage per message
 * instead of one per received batch), BENCH_CPU_PROF=1 (run the broker under --cpu-prof and print
 * its self-time hotspots; the profile is kept as tmp/bench-broker/broker.cpuprofile),
 * BENCH_BROKER_MAIN (the broker bundle to run).
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { coresOf, envNumber, fmt, pct, printTable, progress, rawChannels, reportFailedParts, type Row, runBenchMain, runSendLoad, type SendLoadResult, type Service, startBroker, startService, summariseProfile, tempDir, verdict } from '@apogee/bench';
import { type Consumed, consumedRows, consumeParts, type ConsumeConfig } from './consume-parts';
import { runOfficialProducer } from './official-producer';

const cfg = {
  seconds: envNumber('BENCH_SECONDS', 10),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2),
  latencyWarmupSeconds: envNumber('BENCH_LATENCY_WARMUP_SECONDS', 5),
  backlog: envNumber('BENCH_BACKLOG', 200_000),
  rate: envNumber('BENCH_RATE', 5_000),
  channels: envNumber('BENCH_CHANNELS', 4),
  inflight: envNumber('BENCH_INFLIGHT', 16),
  batch: envNumber('BENCH_BATCH', 32),
  body: envNumber('BENCH_BODY', 1024),
  producerInflight: envNumber('BENCH_PRODUCER_INFLIGHT', 64),
  receivers: envNumber('BENCH_RECEIVERS', 4),
  latencySendBatch: envNumber('BENCH_LATENCY_SEND_BATCH', 32),
  ackEach: process.env.BENCH_ACK_EACH === '1',
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  brokerMain: process.env.BENCH_BROKER_MAIN ?? 'dist/apps/broker/main.js',
};
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const enabled = (part: string): boolean => !only || only.includes(part);
const runTag = randomBytes(3).toString('hex');
const consumeConfig: ConsumeConfig = { ...cfg, runTag, enabled };

async function startTrivial(flags: string[] = []): Promise<Service> {
  return startService('trivial server', [path.join(__dirname, 'trivial-server.js'), ...flags], (line) => /^TRIVIAL_LISTENING (\S+)/.exec(line)?.[1]);
}


interface Measured {
  a?: number;
  b?: SendLoadResult;
}

/** Parts a and b against one server (the same generators for the trivial server and the broker). */
async function sendParts(server: Service, label: string, rows: string[]): Promise<Measured> {
  const out: Measured = {};
  const window = { durationMs: cfg.seconds * 1000, warmupMs: cfg.warmupSeconds * 1000 };
  if (enabled('a')) {
    progress(`${label}: (a) official producer, ${cfg.producerInflight} in flight`);
    const r = await runOfficialProducer(server.address, { topic: `bench-a-${runTag}`, inflight: cfg.producerInflight, bodyBytes: cfg.body, ...window, serverCpu: server.cpuSeconds });
    out.a = r.msgsPerSec;
    rows.push(
      `${label} a: ${fmt(r.msgsPerSec)} msg/s (${r.messages} in ${r.seconds.toFixed(1)} s, ${r.failed} failed${r.firstError ? `: ${r.firstError}` : ''}); ` +
        `CPU: server ${coresOf(r.serverCpuSeconds, r.seconds)}, client ${coresOf(r.clientCpuSeconds, r.seconds)}`,
    );
  }
  if (enabled('b')) {
    progress(`${label}: (b) raw SendMessage, ${cfg.channels} connections × ${cfg.inflight} in flight × ${cfg.batch} messages`);
    const clients = rawChannels(server.address, cfg.channels);
    try {
      const r = await runSendLoad(clients, { topic: `bench-b-${runTag}`, batch: cfg.batch, bodyBytes: cfg.body, inflight: cfg.inflight, ...window, serverCpu: server.cpuSeconds });
      out.b = r;
      const perCpu = r.messages / (r.serverCpuSeconds ?? NaN);
      rows.push(
        `${label} b: ${fmt(r.msgsPerSec)} msg/s, server CPU ${r.serverCpuSeconds?.toFixed(2)} s for ${r.messages} msgs = ${fmt(perCpu)} msg/CPU-s` +
          `; CPU: server ${coresOf(r.serverCpuSeconds, r.seconds)}, client ${coresOf(r.clientCpuSeconds, r.seconds)}${r.failedRequests ? `; ${r.failedRequests} failed requests: ${r.firstError}` : ''}`,
      );
    } finally {
      clients.forEach((c) => c.close());
    }
  }
  return out;
}

async function main(): Promise<void> {
  const root = tempDir('apogee-bench-broker-');
  const details: string[] = [];
  const table: Row[] = [];
  let trivial: Measured = {};
  let apogee: Measured = {};
  let trivialConsumed: Consumed = {};
  let apogeeConsumed: Consumed = {};
  const fails: string[] = [];
  const guard = async (part: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      fails.push(`${part}: ${(err as Error).stack ?? err}`);
      progress(`${part} FAILED: ${(err as Error).message}`);
    }
  };

  if (enabled('a') || enabled('b')) {
    const server = await startTrivial();
    await guard('trivial a/b', async () => void (trivial = await sendParts(server, 'trivial', details)));
    await server.stop();
  }

  if (enabled('c') || enabled('d')) {
    const server = await startTrivial(['--keep-messages']);
    await guard('trivial c/d', async () => void (trivialConsumed = await consumeParts(server, 'trivial', consumeConfig, details)));
    await server.stop();
  }

  const profDir = cfg.cpuProf ? path.join(root, 'prof') : undefined;
  const broker = await startBroker(cfg.brokerMain, path.join(root, 'data'), profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []);
  progress(`broker pid ${broker.pid} at ${broker.address}`);
  await guard('broker a/b', async () => void (apogee = await sendParts(broker, 'broker', details)));

  await guard('broker c/d', async () => void (apogeeConsumed = await consumeParts(broker, 'broker', consumeConfig, details)));

  await broker.stop(30_000);

  if (apogee.a !== undefined || trivial.a !== undefined) {
    const ratio = (apogee.a ?? NaN) / (trivial.a ?? NaN);
    table.unshift({ measure: 'a official producer, msg/s', result: fmt(apogee.a ?? NaN), ceiling: fmt(trivial.a ?? NaN), ratio: pct(ratio), target: '≥ 70% of trivial', verdict: verdict(ratio >= 0.7) });
  }
  if (apogee.b !== undefined || trivial.b !== undefined) {
    const ratio = (apogee.b?.msgsPerSec ?? NaN) / (trivial.b?.msgsPerSec ?? NaN);
    const perCpu = (apogee.b?.messages ?? NaN) / (apogee.b?.serverCpuSeconds ?? NaN);
    const trivialPerCpu = (trivial.b?.messages ?? NaN) / (trivial.b?.serverCpuSeconds ?? NaN);
    const at = enabled('a') ? 1 : 0;
    table.splice(at, 0, {
      measure: 'b raw SendMessage ×32, msg/s',
      result: fmt(apogee.b?.msgsPerSec ?? NaN),
      ceiling: fmt(trivial.b?.msgsPerSec ?? NaN),
      ratio: pct(ratio),
      target: '≥ 80% of trivial',
      verdict: verdict(ratio >= 0.8),
    });
    table.splice(at + 1, 0, {
      measure: 'b msgs per server CPU-second',
      result: fmt(perCpu),
      ceiling: fmt(trivialPerCpu),
      ratio: pct(perCpu / trivialPerCpu),
      target: '≥ 100,000',
      verdict: verdict(perCpu >= 100_000),
    });
  }

  consumedRows(table, apogeeConsumed, trivialConsumed, cfg.rate, cfg.backlog);

  console.log(`\n## apogee broker benchmark (${new Date().toISOString()}, node ${process.version}, run ${runTag})\n`);
  for (const line of details) console.log(`- ${line}`);
  console.log('');
  printTable(table);
  if (profDir) printProfile(profDir);
  reportFailedParts(fails);
}

function printProfile(profDir: string): void {
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return console.log('\n(no .cpuprofile written: did the broker exit cleanly?)');
  mkdirSync('tmp/bench-broker', { recursive: true });
  copyFileSync(path.join(profDir, file), 'tmp/bench-broker/broker.cpuprofile');
  const { functions, files, areas, totalMs } = summariseProfile(path.join(profDir, file), 15);
  console.log(`\n## broker CPU profile: self time (${fmt(totalMs)} ms busy; kept as tmp/bench-broker/broker.cpuprofile)\n`);
  for (const h of functions) console.log(`${pct(h.share).padStart(4)}  ${fmt(h.ms).padStart(7)} ms  ${h.name}`);
  console.log('\nby file:');
  for (const h of files) console.log(`${pct(h.share).padStart(4)}  ${fmt(h.ms).padStart(7)} ms  ${h.name}`);
  console.log('\nby area:');
  for (const h of areas) console.log(`${pct(h.share).padStart(4)}  ${fmt(h.ms).padStart(7)} ms  ${h.name}`);
}

runBenchMain(main);
