/**
 * The index-service benchmark (`npm run bench:index`): starts a nameserver, one broker (ASYNC
 * flush, auto-create topics) and an index-service as child processes from TypeScript (node
 * --import tsx, like `npm start`), on loopback port 0 with data in a temp dir, then:
 *   a  ingest: the official Producer sends BENCH_MESSAGES messages (1 key each, BENCH_BODY bytes)
 *      with BENCH_INFLIGHT sends in flight, as fast as the broker takes them, while IndexStatus is
 *      sampled every 100 ms: the largest index lag in bytes and seconds, and how long after the
 *      last send the index caught up
 *   b  queries: BENCH_QUERIES QueryByKey of random sent keys, one at a time: p50 / p99, against
 *      the baseline of one BrokerDispatch.GetMessages of one message straight from the broker
 *      (what every answer costs at least)
 *   c  memory: the index-service's RSS (apogee_process_resident_memory_bytes) at the end
 * Knobs (env): BENCH_MESSAGES (50000), BENCH_BODY (256), BENCH_INFLIGHT (64), BENCH_QUERIES (1000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import { createBrokerDispatchClient, createMessageIndexClient } from '@apogee/protocol';

const envNumber = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const cfg = {
  messages: envNumber('BENCH_MESSAGES', 50_000),
  body: envNumber('BENCH_BODY', 256),
  inflight: envNumber('BENCH_INFLIGHT', 64),
  queries: envNumber('BENCH_QUERIES', 1_000),
};
const ROOT = process.cwd();
// The bundle runs from tmp/bench-index: point proto loading at the repository's protos.
process.env.PROTO_DIR ||= path.join(ROOT, 'proto');
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

interface Proc {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly metrics: string;
}

function startApp(app: string, args: string[]): Promise<Proc> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('apps', app, 'src', 'main.ts'), '--grpc-host', '127.0.0.1', '--grpc-port', '0', '--metrics-host', '127.0.0.1', '--metrics-port', '0', '--log-level', 'info', ...args],
    { cwd: ROOT, env: { ...process.env, TSX_TSCONFIG_PATH: path.join('apps', app, 'tsconfig.json') }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const log = JSON.parse(line) as { msg?: string; grpc?: string; metrics?: string };
          if (log.msg === 'listening' && log.grpc && log.metrics) resolve({ child, grpc: log.grpc, metrics: log.metrics });
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`${app} exited (${code}) before listening`)));
  });
}

function rssBytes(metrics: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`http://${metrics}/metrics`, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(Number(/^apogee_process_resident_memory_bytes (\S+)$/m.exec(body)?.[1] ?? NaN)));
    }).on('error', reject);
  });
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
const ms = (x: number): string => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'apogee-bench-index-'));
  const procs: Proc[] = [];
  try {
    const ns = await startApp('nameserver', []);
    procs.push(ns);
    const broker = await startApp('broker', ['--data-dir', path.join(dir, 'broker'), '--nameservers', ns.grpc, '--auto-create-topics', 'true']);
    procs.push(broker);
    const index = await startApp('index-service', ['--data-dir', path.join(dir, 'index'), '--nameservers', ns.grpc, '--discovery-interval-ms', '200']);
    procs.push(index);
    const client = createMessageIndexClient(index.grpc);
    const dispatch = createBrokerDispatchClient(broker.grpc);
    const producer = new Producer({ endpoints: broker.grpc, namespace: '', topics: ['bench'], sslEnabled: false, logger: quiet });
    await producer.startup();

    // a: ingest at max rate while sampling the lag
    let maxLagBytes = 0;
    let maxLagSeconds = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await client.indexStatus().catch(() => undefined);
        for (const b of s?.brokers ?? []) {
          const lag = Number(b.max_offset) - Number(b.indexed_offset);
          maxLagBytes = Math.max(maxLagBytes, lag);
          const newest = Number(b.indexed_store_timestamp_ms);
          if (lag > 0 && newest > 0) maxLagSeconds = Math.max(maxLagSeconds, (Date.now() - newest) / 1000);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const body = Buffer.alloc(cfg.body, 'x');
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: cfg.inflight }, async () => {
        while (next < cfg.messages) {
          const i = next++;
          await producer.send({ topic: 'bench', keys: [`key-${i}`], body });
        }
      }),
    );
    const sendSeconds = (Date.now() - started) / 1000;
    const sentAt = Date.now();
    for (;;) {
      const s = await client.indexStatus();
      const b = s.brokers?.[0];
      if (b && Number(b.indexed_offset) >= Number(b.max_offset) && Number(s.indexed_entries) >= cfg.messages * 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const catchUpMs = Date.now() - sentAt;
    sampling = false;
    await sampler;

    // b: queries vs the GetMessages baseline
    const queryTimes: number[] = [];
    const baseTimes: number[] = [];
    const one = await client.queryByKey({ topic: 'bench', key: 'key-0' });
    const offset = String(one.messages?.[0]?.physical_offset ?? '0');
    for (let q = 0; q < cfg.queries; q++) {
      const key = `key-${Math.floor(Math.random() * cfg.messages)}`;
      let t = process.hrtime.bigint();
      const answer = await client.queryByKey({ topic: 'bench', key });
      queryTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (answer.messages?.length !== 1) throw new Error(`query ${key}: ${answer.messages?.length ?? 0} messages`);
      t = process.hrtime.bigint();
      await dispatch.getMessages([offset]);
      baseTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    queryTimes.sort((a, b) => a - b);
    baseTimes.sort((a, b) => a - b);
    const rss = await rssBytes(index.metrics);

    const rows = [
      ['a ingest', `${cfg.messages} msgs in ${sendSeconds.toFixed(1)} s (${Math.round(cfg.messages / sendSeconds)} msg/s), 1 key/msg`],
      ['a max index lag', `${(maxLagBytes / 1024).toFixed(0)} KiB, ${maxLagSeconds.toFixed(2)} s`],
      ['a caught up after last send', `${catchUpMs} ms`],
      ['b QueryByKey p50 / p99', `${ms(percentile(queryTimes, 0.5))} / ${ms(percentile(queryTimes, 0.99))}`],
      ['b baseline GetMessages p50 / p99', `${ms(percentile(baseTimes, 0.5))} / ${ms(percentile(baseTimes, 0.99))}`],
      ['b ratio p50 (query / baseline)', `${(percentile(queryTimes, 0.5) / percentile(baseTimes, 0.5)).toFixed(2)}×`],
      ['c index-service RSS', `${(rss / 1024 / 1024).toFixed(0)} MiB`],
    ];
    const width = Math.max(...rows.map((r) => (r[0] ?? '').length));
    process.stdout.write(`\nindex-service benchmark\n${rows.map(([k, v]) => `${(k ?? '').padEnd(width)}  ${v}`).join('\n')}\n`);
    await producer.shutdown().catch(() => undefined);
    client.close();
    dispatch.close();
  } finally {
    for (const p of procs.reverse()) {
      p.child.kill('SIGTERM');
      await new Promise((r) => (p.child.exitCode !== null ? r(undefined) : p.child.once('exit', r)));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
