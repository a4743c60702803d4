/**
 * The HA benchmark (`npm run bench:ha`, issue 6). One run starts the built broker and
 * ha-replicator (dist/apps/...) as child processes, data in fresh temp dirs, and measures:
 *   send  the same load — the official rocketmq-client-nodejs Producer, 64 sends in flight,
 *         1 KiB bodies, 10 s after a 2 s warm-up (latency-producer.ts) — against
 *           single  one standalone broker
 *           ASYNC   a static broker group: master (--replication-mode ASYNC) + 1 slave
 *           SYNC    the same with --replication-mode SYNC (sync double write)
 *         msg/s and p50/p99 send latency (mean over 3 rounds, every other one in reverse order, each on
 *         fresh processes), and the ratios SYNC/ASYNC and ASYNC/single.
 *         Then, on the same processes, the raw SendMessage generator of libs/bench (batches of 32
 *         × 1 KiB over 4 connections × 16 in flight, 10 s after 2 s): msg/s only, the broker-side
 *         cost of replication without the official client's ~1 core ceiling (BENCH_RAW=0: skip).
 *         All flushMode ASYNC, same segment size; the topic (4 queues) is created on every replica.
 *   failover  N trials (5), each on a fresh ASYNC group of 2 replicas under one ha-replicator
 *         with the default timings (masterTimeoutMs 3000, leaseMs 2000, tickMs 200, broker
 *         haHeartbeatMs 500): the official client sends continuously to the group's service
 *         address from a child process (apps/broker/test/failover-sender.ts, which tolerates the
 *         client's crash on a dead connection's Telemetry stream); kill -9 of the master, then the
 *         time until the ha-replicator reports the slave as master, and until the first send is
 *         acknowledged through the service address.
 * ASYNC groups for failover: a SYNC group of 2 refuses sends once its only slave became master
 * (no in-sync slave left), so "first successful send" would wait for the old master's return.
 *
 * Knobs (env): BENCH_ONLY (send,failover), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3),
 * BENCH_PRODUCER_INFLIGHT (64), BENCH_BODY (1024), BENCH_CHANNELS (4), BENCH_INFLIGHT (16),
 * BENCH_BATCH (32), BENCH_TRIALS (5), BENCH_MASTER_TIMEOUT_MS
 * (3000), BENCH_LEASE_MS (2000), BENCH_TICK_MS (200), BENCH_HA_HEARTBEAT_MS (500),
 * BENCH_BROKER_MAIN, BENCH_HA_MAIN (the bundles to run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { envNumber, fmt, pct, printTable, progress, rawChannels, reportFailedParts, type Row, runBenchMain, runSendLoad, type SendLoadResult, type Service, sleep, startApp, tempDir } from '@apogee/bench';
import { createBrokerAdminClient, createHaControllerClient, type WireHaGroup } from '@apogee/protocol';
import { freePort } from '@apogee/testing';
import { runLatencyProducer, type LatencyProducerResult } from './latency-producer';

const cfg = {
  seconds: envNumber('BENCH_SECONDS', 10),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2),
  inflight: envNumber('BENCH_PRODUCER_INFLIGHT', 64),
  body: envNumber('BENCH_BODY', 1024),
  rounds: envNumber('BENCH_ROUNDS', 3),
  raw: process.env.BENCH_RAW !== '0',
  channels: envNumber('BENCH_CHANNELS', 4),
  rawInflight: envNumber('BENCH_INFLIGHT', 16),
  batch: envNumber('BENCH_BATCH', 32),
  trials: envNumber('BENCH_TRIALS', 5),
  masterTimeoutMs: envNumber('BENCH_MASTER_TIMEOUT_MS', 3_000),
  leaseMs: envNumber('BENCH_LEASE_MS', 2_000),
  tickMs: envNumber('BENCH_TICK_MS', 200),
  haHeartbeatMs: envNumber('BENCH_HA_HEARTBEAT_MS', 500),
  brokerMain: process.env.BENCH_BROKER_MAIN ?? 'dist/apps/broker/main.js',
  haMain: process.env.BENCH_HA_MAIN ?? 'dist/apps/ha-replicator/main.js',
};
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const enabled = (part: string): boolean => !only || only.includes(part);
const runTag = randomBytes(3).toString('hex');
/** Same for every replica of every setup (a byte-identical replica log needs equal segments). */
const SEGMENT_BYTES = 64 * 1024 * 1024;
const TOPIC = `bench-ha-${runTag}`;
const COMMON = ['--nameservers', '', '--flush-mode', 'ASYNC', '--segment-bytes', String(SEGMENT_BYTES), '--auto-create-groups', 'true'];

async function createTopicOn(address: string, topic: string): Promise<void> {
  const admin = createBrokerAdminClient(address);
  try {
    await admin.call('CreateTopic', { name: topic, read_queue_count: 4, write_queue_count: 4, message_type: 'NORMAL' });
  } catch (err) {
    if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS: e.g. replicated from the master first */) throw err;
  } finally {
    admin.close();
  }
}

// ---------------------------------------------------------------- send throughput and latency

type Setup = 'single' | 'ASYNC' | 'SYNC';

/** Starts the setup, returns the address clients send to and every process of it. */
async function startSetup(setup: Setup, root: string): Promise<{ address: string; services: Service[] }> {
  const dir = path.join(root, setup.toLowerCase());
  if (setup === 'single') {
    const broker = await startApp('broker', cfg.brokerMain, [...COMMON, '--data-dir', path.join(dir, 'broker')]);
    return { address: broker.address, services: [broker] };
  }
  const name = `bench-${setup.toLowerCase()}`;
  const master = await startApp('master', cfg.brokerMain, [...COMMON, '--broker-name', name, '--replication-mode', setup, '--data-dir', path.join(dir, 'master')]);
  const slave = await startApp('slave', cfg.brokerMain, [
    ...COMMON,
    ...['--broker-name', name, '--broker-id', '1', '--master-address', master.address, '--data-dir', path.join(dir, 'slave')],
  ]);
  return { address: master.address, services: [master, slave] };
}

interface SendResult extends LatencyProducerResult {
  cpu: string;
  /** The raw generator's run (part of the same setup, after the official client's), unless BENCH_RAW=0. */
  raw?: SendLoadResult;
}

async function sendPart(setup: Setup, root: string): Promise<SendResult> {
  const { address, services } = await startSetup(setup, root);
  try {
    for (const s of services) await createTopicOn(s.address, TOPIC);
    progress(`${setup}: official producer, ${cfg.inflight} in flight, ${cfg.body} B, ${cfg.seconds} s after ${cfg.warmupSeconds} s warm-up (${services.map((s) => `${s.name} pid ${s.pid}`).join(', ')})`);
    const window = { durationMs: cfg.seconds * 1000, warmupMs: cfg.warmupSeconds * 1000 };
    const cpu0 = services.map((s) => s.cpuSeconds());
    const r = await runLatencyProducer(address, { topic: TOPIC, inflight: cfg.inflight, bodyBytes: cfg.body, ...window });
    // CPU over warm-up + window: a rough share per process, enough to see the machine saturate.
    const wall = r.seconds + cfg.warmupSeconds;
    const cpu = [...services.map((s, i) => `${s.name} ${(((s.cpuSeconds() - cpu0[i]) / wall) * 100).toFixed(0)}%`), `client ${((r.clientCpuSeconds / r.seconds) * 100).toFixed(0)}% (of a core)`].join(', ');
    if (!cfg.raw) return { ...r, cpu };
    progress(`${setup}: raw SendMessage, ${cfg.channels} connections × ${cfg.rawInflight} in flight × ${cfg.batch} messages`);
    const clients = rawChannels(address, cfg.channels);
    try {
      const raw = await runSendLoad(clients, { topic: TOPIC, batch: cfg.batch, bodyBytes: cfg.body, inflight: cfg.rawInflight, ...window, serverCpu: services[0].cpuSeconds });
      return { ...r, cpu, raw };
    } finally {
      clients.forEach((c) => c.close());
    }
  } finally {
    for (const s of services.reverse()) await s.stop(30_000);
  }
}

// ---------------------------------------------------------------- failover

const GROUP = 'bench-failover';

async function groupOf(haAddress: string): Promise<WireHaGroup | undefined> {
  const client = createHaControllerClient(haAddress);
  try {
    return (await client.listGroups(2_000)).groups?.find((g) => g.broker_name === GROUP);
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/** Polls the ha-replicator until a replica `accept`s is MASTER (and, with `settled`, no replica is STANDBY). */
async function waitMaster(haAddress: string, accept: (id: number) => boolean, timeoutMs: number, intervalMs = 100, settled = true): Promise<WireHaGroup> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const group = await groupOf(haAddress);
    const id = group?.master_replica_id;
    if (group !== undefined && id !== undefined && id >= 0 && accept(id)) {
      const master = group.replicas?.find((r) => r.replica_id === id);
      if (master?.role === 'MASTER' && (!settled || group.replicas?.every((r) => r.role !== 'STANDBY'))) return group;
    }
    if (Date.now() > deadline) throw new Error(`no accepted master within ${timeoutMs} ms: ${JSON.stringify(group)}`);
    await sleep(intervalMs);
  }
}

/** failover-sender.ts in a child process: `ack <key> <epoch ms>` / `fail <code>` lines. */
class Sender {
  readonly ackTimes: number[] = [];
  readonly failTimes: number[] = [];
  failures = 0;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  private stderr = '';

  constructor(endpoint: string, topic: string) {
    this.child = spawn(process.execPath, [path.join(__dirname, 'failover-sender.js'), endpoint, topic], { stdio: ['ignore', 'pipe', 'pipe'] });
    liveSenders.add(this.child);
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const [kind, , at] = line.split(' ');
      if (kind === 'ack') this.ackTimes.push(Number(at));
      else if (kind === 'fail') {
        this.failures++;
        this.failTimes.push(Date.now());
      }
    });
  }

  async waitAcks(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ackTimes.length < n) {
      if (Date.now() > deadline) throw new Error(`sender: ${this.ackTimes.length}/${n} sends acknowledged within ${timeoutMs} ms (${this.failures} failed) ${this.stderr}`);
      if (this.child.exitCode !== null) throw new Error(`sender exited with ${this.child.exitCode}: ${this.stderr}`);
      await sleep(20);
    }
  }

  /**
   * The time of the first acknowledgement after the outage that began after `t` (epoch ms): after
   * the first failed send past `t`, so that an answer the dying master sent just after the kill
   * signal does not count. Waits up to `timeoutMs`.
   */
  async firstAckAfter(t: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failedAt = this.failTimes.find((x) => x > t);
      const at = failedAt === undefined ? undefined : this.ackTimes.find((x) => x > failedAt);
      if (at !== undefined) return at;
      if (Date.now() > deadline) throw new Error(`no send acknowledged within ${timeoutMs} ms of the kill (${this.failures} failed) ${this.stderr}`);
      if (this.child.exitCode !== null) throw new Error(`sender exited with ${this.child.exitCode}: ${this.stderr}`);
      await sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.closed;
    clearTimeout(kill);
    liveSenders.delete(this.child);
  }
}
const liveSenders = new Set<ChildProcess>();
process.on('exit', () => liveSenders.forEach((c) => c.kill('SIGKILL')));

interface Trial {
  promotedMs: number;
  firstSendMs: number;
  failedSends: number;
  epoch: string;
}

async function failoverTrial(n: number): Promise<Trial> {
  const dir = tempDir(`apogee-bench-ha-failover-${n}-`);
  const services: Service[] = [];
  let sender: Sender | undefined;
  try {
    const serviceAddress = `127.0.0.1:${await freePort()}`;
    const ha = await startApp('ha-replicator', cfg.haMain, [
      ...['--data-dir', path.join(dir, 'ha'), '--master-timeout-ms', String(cfg.masterTimeoutMs), '--lease-ms', String(cfg.leaseMs), '--tick-ms', String(cfg.tickMs)],
    ]);
    services.push(ha);
    for (let id = 0; id < 2; id++) {
      services.push(
        await startApp(`replica-${id}`, cfg.brokerMain, [
          ...COMMON,
          ...['--broker-name', GROUP, '--broker-id', String(id), '--data-dir', path.join(dir, `replica-${id}`), '--ha-replicators', ha.address],
          ...['--ha-heartbeat-ms', String(cfg.haHeartbeatMs), '--service-address', serviceAddress, '--replication-mode', 'ASYNC'],
        ]),
      );
    }
    const [, master] = services;
    for (const r of services.slice(1)) await createTopicOn(r.address, TOPIC);
    await waitMaster(ha.address, (id) => id === 0, 30_000);
    sender = new Sender(serviceAddress, TOPIC);
    await sender.waitAcks(200, 30_000);
    await sleep(500);
    const failuresBefore = sender.failures;
    process.kill(master.pid, 'SIGKILL');
    const killedAt = Date.now();
    const promoted = waitMaster(ha.address, (id) => id !== 0, 60_000, 20, false).then((group) => ({ group, at: Date.now() }));
    promoted.catch(() => undefined); // awaited below; no unhandled rejection if the sender fails first
    const firstAck = await sender.firstAckAfter(killedAt, 60_000);
    const { group, at } = await promoted;
    const trial = { promotedMs: at - killedAt, firstSendMs: firstAck - killedAt, failedSends: sender.failures - failuresBefore, epoch: String(group.epoch) };
    progress(`failover trial ${n}: promoted after ${trial.promotedMs} ms, first acknowledged send ${trial.firstSendMs} ms after kill -9 (${trial.failedSends} failed sends, epoch ${trial.epoch})`);
    return trial;
  } finally {
    await sender?.stop().catch(() => undefined);
    for (const s of services.reverse()) await s.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  // Bundled into tmp/bench-ha, the protocol lib cannot find the repo's proto dir from its own path.
  if (!process.env.PROTO_DIR && existsSync(path.resolve('proto/apogee'))) process.env.PROTO_DIR = path.resolve('proto');
  const fails: string[] = [];
  const details: string[] = [];
  const sends = new Map<Setup, SendResult[]>();
  /** The mean over the rounds of msg/s, p50 and p99. */
  const meanOf = (setup: Setup): { msgsPerSec: number; p50: number; p99: number; raw: number } | undefined => {
    const rs = sends.get(setup);
    if (!rs?.length) return undefined;
    const mean = (f: (r: SendResult) => number): number => rs.reduce((sum, r) => sum + f(r), 0) / rs.length;
    return { msgsPerSec: mean((r) => r.msgsPerSec), p50: mean((r) => r.p50), p99: mean((r) => r.p99), raw: mean((r) => r.raw?.msgsPerSec ?? NaN) };
  };
  const trials: Trial[] = [];

  if (enabled('send')) {
    const root = tempDir('apogee-bench-ha-send-');
    const order = ['single', 'ASYNC', 'SYNC'] as const;
    for (let round = 1; round <= cfg.rounds; round++) {
      // Odd rounds run single → SYNC, even rounds SYNC → single: neither the client's JIT warm-up
      // nor a drift of the shared machine's load favours one setup.
      for (const setup of round % 2 ? order : [...order].reverse()) {
        try {
          const r = await sendPart(setup, path.join(root, `round-${round}`));
          sends.set(setup, [...(sends.get(setup) ?? []), r]);
          details.push(
            `round ${round} ${setup}: ${fmt(r.msgsPerSec)} msg/s (${r.messages} in ${r.seconds.toFixed(1)} s, ${r.failed} failed${r.firstError ? `: ${r.firstError}` : ''}` +
              `${r.probeFailures ? `, ${r.probeFailures} refused before the group was ready` : ''}); p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms; CPU ${r.cpu}` +
              (r.raw
                ? `; raw ×${cfg.batch}: ${fmt(r.raw.msgsPerSec)} msg/s, ${fmt(r.raw.messages / (r.raw.serverCpuSeconds ?? NaN))} msg per ${setup === 'single' ? 'broker' : 'master'} CPU-s` +
                  `${r.raw.failedRequests ? `, ${r.raw.failedRequests} failed requests: ${r.raw.firstError}` : ''}`
                : ''),
          );
        } catch (err) {
          fails.push(`send ${setup} round ${round}: ${(err as Error).stack ?? String(err)}`);
          progress(`send ${setup} round ${round} FAILED: ${(err as Error).message}`);
        }
      }
    }
  }

  if (enabled('failover')) {
    for (let n = 1; n <= cfg.trials; n++) {
      try {
        trials.push(await failoverTrial(n));
      } catch (err) {
        fails.push(`failover trial ${n}: ${(err as Error).stack ?? String(err)}`);
        progress(`failover trial ${n} FAILED: ${(err as Error).message}`);
      }
    }
  }

  console.log(`\n## apogee HA benchmark (${new Date().toISOString()}, node ${process.version}, run ${runTag})\n`);
  if (sends.size > 0) {
    console.log(`send: official rocketmq-client-nodejs Producer, ${cfg.inflight} sends in flight, ${cfg.body} B bodies, ${cfg.seconds} s after ${cfg.warmupSeconds} s warm-up, each setup fresh; flushMode ASYNC; groups = master + 1 slave; mean of ${cfg.rounds} rounds\n`);
    const rows: Row[] = (['single', 'ASYNC', 'SYNC'] as const).map((setup) => {
      const r = meanOf(setup);
      const single = meanOf('single');
      const vsSingle = r && single ? `${((r.msgsPerSec / single.msgsPerSec) * 100).toFixed(0)}%` : 'n/a';
      const rawVsSingle = r && single && cfg.raw ? `${((r.raw / single.raw) * 100).toFixed(0)}%` : 'n/a';
      return {
        measure: setup === 'single' ? 'single broker' : `${setup} group (master + 1 slave)`,
        result: r ? fmt(r.msgsPerSec) : 'failed',
        ceiling: r ? r.p50.toFixed(2) : '',
        ratio: r ? r.p99.toFixed(2) : '',
        target: vsSingle,
        verdict: r && cfg.raw ? `${fmt(r.raw)} (${rawVsSingle})` : 'n/a',
      };
    });
    printTable(rows, { measure: 'setup', result: 'client msg/s', ceiling: 'p50 ms', ratio: 'p99 ms', target: 'vs single', verdict: `raw ×${cfg.batch} msg/s (vs single)` });
    const [single, async, sync] = [meanOf('single'), meanOf('ASYNC'), meanOf('SYNC')];
    console.log(
      `\nSYNC/ASYNC: throughput ${pct((sync?.msgsPerSec ?? NaN) / (async?.msgsPerSec ?? NaN))}, p99 ×${((sync?.p99 ?? NaN) / (async?.p99 ?? NaN)).toFixed(2)}` +
        ` (RocketMQ's docs: sync double write about 10% slower than async)`,
    );
    console.log(`ASYNC/single: throughput ${pct((async?.msgsPerSec ?? NaN) / (single?.msgsPerSec ?? NaN))}, p99 ×${((async?.p99 ?? NaN) / (single?.p99 ?? NaN)).toFixed(2)}`);
    if (cfg.raw) {
      console.log(
        `raw ×${cfg.batch} (${cfg.channels} connections × ${cfg.rawInflight} in flight): SYNC/ASYNC ${pct((sync?.raw ?? NaN) / (async?.raw ?? NaN))}, ` +
          `ASYNC/single ${pct((async?.raw ?? NaN) / (single?.raw ?? NaN))}`,
      );
    }
    console.log('');
    for (const line of details) console.log(line);
  }
  if (trials.length > 0) {
    console.log(
      `\nfailover: ASYNC group of 2 replicas, ha-replicator masterTimeoutMs ${cfg.masterTimeoutMs}, leaseMs ${cfg.leaseMs}, tickMs ${cfg.tickMs}; broker haHeartbeatMs ${cfg.haHeartbeatMs}; ` +
        `official client (maxAttempts 1, 20 ms pause after a failed send) sending to the service address\n`,
    );
    const rows: Row[] = trials.map((t, i) => ({ measure: `trial ${i + 1}`, result: fmt(t.firstSendMs), ceiling: fmt(t.promotedMs), ratio: String(t.failedSends), target: t.epoch }));
    const first = trials.map((t) => t.firstSendMs);
    const prom = trials.map((t) => t.promotedMs);
    rows.push({ measure: 'median', result: fmt(median(first)), ceiling: fmt(median(prom)), target: '' });
    rows.push({ measure: 'max', result: fmt(Math.max(...first)), ceiling: fmt(Math.max(...prom)), target: '' });
    printTable(rows, { measure: 'trial', result: 'kill → first send ms', ceiling: 'kill → promoted ms', ratio: 'failed sends', target: 'epoch' });
  }
  reportFailedParts(fails);
}

runBenchMain(main);
