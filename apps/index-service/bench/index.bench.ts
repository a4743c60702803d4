/**
 * The index-service benchmark (`npm run bench:index`): starts the production bundles
 * (dist/apps/<app>/main.js) of a nameserver, one broker (ASYNC flush, auto-create topics,
 * registered with the nameserver) and an index-service as child processes on loopback port 0,
 * data in a temp dir (deleted at the end), then:
 *   a  ingest at the broker's max rate: the raw SendMessage generator of the broker bench
 *      (libs/bench/src/send-load.ts; batches of BENCH_BATCH over BENCH_CHANNELS connections ×
 *      BENCH_INFLIGHT requests each), BENCH_MESSAGES messages of BENCH_BODY bytes, each with one
 *      unique key. Meanwhile:
 *        - lag "newest stored → queryable": every BENCH_PROBE_MS one probe message with a fresh
 *          key goes over its own connection; its lag is the time from its SendMessage OK until
 *          QueryByKey finds it (the oldest unfound probe is polled every BENCH_POLL_MS; probes
 *          become queryable in order, one broker);
 *        - IndexStatus every 250 ms: the largest lag in bytes (max_offset − indexed_offset);
 *        - the index-service's RSS (/proc/<pid>/status VmRSS) every 500 ms;
 *      then the time from the last send until everything is indexed, and the CPU of the
 *      index-service and the broker over ingest + catch-up.
 *   b  BENCH_QUERIES QueryByKey of random sent keys, one at a time, each checked to return exactly
 *      the message sent with that key, against the baseline of one BrokerDispatch.GetMessages of
 *      that message straight from the broker (what every answer costs at least); then the same
 *      number with BENCH_QUERY_CONCURRENCY in flight.
 *   c  the index-service's RSS: peak during ingest and at the end.
 * Knobs (env): BENCH_MESSAGES (10000000), BENCH_BODY (128), BENCH_BATCH (32), BENCH_CHANNELS (4),
 * BENCH_INFLIGHT (16), BENCH_PROBE_MS (250), BENCH_POLL_MS (2), BENCH_QUERIES (2000),
 * BENCH_QUERY_CONCURRENCY (8), BENCH_CPU_PROF=1 (run the index-service under --cpu-prof and print
 * its self-time hotspots; the profile is kept in tmp/bench-index/).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createBrokerDispatchClient, createMessageIndexClient, type IndexFoundMessage } from '@apogee/protocol';
// The broker bench's plumbing and load generator, reused as they are (bench code only, bundled by
// esbuild; no app code crosses): a shared bench library would need its own tsconfig path.
import { Code, envNumber, fmt, keyOf, messageIdOf, percentile, printTable, progress, verdict, rawChannels, type Row, runSendLoad, type Service, sleep, startApp, startBroker, summariseProfile, tempDir, unary, wireMessage } from '@apogee/bench';

const cfg = {
  messages: envNumber('BENCH_MESSAGES', 10_000_000),
  body: envNumber('BENCH_BODY', 128),
  batch: envNumber('BENCH_BATCH', 32),
  channels: envNumber('BENCH_CHANNELS', 4),
  inflight: envNumber('BENCH_INFLIGHT', 16),
  probeMs: envNumber('BENCH_PROBE_MS', 250),
  pollMs: envNumber('BENCH_POLL_MS', 2),
  queries: envNumber('BENCH_QUERIES', 2_000),
  queryConcurrency: envNumber('BENCH_QUERY_CONCURRENCY', 8),
  cpuProf: process.env.BENCH_CPU_PROF === '1',
};
const TOPIC = 'bench-index';
const dist = (app: string): string => path.join('dist', 'apps', app, 'main.js');
// The bench bundle runs from tmp/bench-index: point Apogee's proto loading at the repository's protos.
process.env.PROTO_DIR ||= path.join(process.cwd(), 'proto');

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 0)} ms` : 'n/a');
const mib = (bytes: number): string => `${fmt(bytes / 1024 / 1024)} MiB`;
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const elapsedMs = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

interface Probe {
  key: string;
  okAt: bigint;
}

async function main(): Promise<void> {
  const dir = tempDir('apogee-bench-index-');
  const outDir = path.join('tmp', 'bench-index');
  const profDir = cfg.cpuProf ? path.join(dir, 'prof') : undefined;
  const services: Service[] = [];
  try {
    const ns = await startApp('nameserver', dist('nameserver'), []);
    services.push(ns);
    const broker = await startBroker(dist('broker'), path.join(dir, 'broker'), [], ns.address);
    services.push(broker);
    const index = await startApp(
      'index-service',
      dist('index-service'),
      ['--data-dir', path.join(dir, 'index'), '--nameservers', ns.address, '--discovery-interval-ms', '200'],
      profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [],
    );
    services.push(index);
    const client = createMessageIndexClient(index.address);
    const dispatch = createBrokerDispatchClient(broker.address);
    const [probeChannel] = rawChannels(broker.address, 1);
    const loadChannels = rawChannels(broker.address, cfg.channels);

    // Wait until the index-service follows the broker (a first probe is queryable).
    const sendProbe = async (key: string): Promise<void> => {
      const message = wireMessage(TOPIC, `probe-${key}`, Buffer.from(key)) as { system_properties: Record<string, unknown> };
      message.system_properties.keys = [key];
      const res = await unary<{ entries: { status?: { code: number | string } }[] }>(probeChannel, 'SendMessage', { messages: [message] });
      const code = res.entries[0]?.status?.code;
      if (code !== 'OK' && code !== Code.OK) throw new Error(`probe ${key}: status ${code}`);
    };
    const found = async (key: string): Promise<number> => (await client.queryByKey({ topic: TOPIC, key })).messages?.length ?? 0;
    await sendProbe('probe-warmup');
    const readyBy = Date.now() + 30_000;
    while ((await found('probe-warmup')) === 0) {
      if (Date.now() > readyBy) throw new Error('the index-service did not index the first message within 30 s');
      await sleep(50);
    }
    progress(`services up (nameserver ${ns.address}, broker ${broker.address}, index-service ${index.address}); ingesting ${fmt(cfg.messages)} messages`);

    // a: ingest at max rate, probing the lag, sampling IndexStatus and RSS
    let ingesting = true;
    const probes: Probe[] = [];
    const lags: number[] = [];
    let probeFailures = 0;
    const prober = (async () => {
      for (let n = 0; ingesting; n++) {
        const key = `probe-${n}`;
        const t = process.hrtime.bigint();
        await sendProbe(key).then(
          () => void probes.push({ key, okAt: process.hrtime.bigint() }),
          () => void probeFailures++,
        );
        await sleep(Math.max(0, cfg.probeMs - elapsedMs(t)));
      }
    })();
    let pollDone = false;
    const poller = (async () => {
      let next = 0;
      while (!pollDone || next < probes.length) {
        const p = probes[next];
        if (p && (await found(p.key)) > 0) {
          lags.push(elapsedMs(p.okAt));
          next++;
          continue;
        }
        await sleep(cfg.pollMs);
      }
    })();
    let maxLagBytes = 0;
    let peakRss = 0;
    let indexedEntries = 0;
    let sampling = true;
    const statusSampler = (async () => {
      while (sampling) {
        const s = await client.indexStatus().catch(() => undefined);
        indexedEntries = Number(s?.indexed_entries ?? indexedEntries);
        for (const b of s?.brokers ?? []) maxLagBytes = Math.max(maxLagBytes, Number(b.max_offset) - Number(b.indexed_offset));
        await sleep(250);
      }
    })();
    const rssSampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, rssBytes(index.pid));
        await sleep(500);
      }
    })();
    const ticker = setInterval(() => progress(`  ${fmt(indexedEntries / 2)} messages indexed, ${lags.length} probes, index-service RSS ${mib(rssBytes(index.pid))}`), 10_000);

    const [indexCpu0, brokerCpu0] = [index.cpuSeconds(), broker.cpuSeconds()];
    const load = await runSendLoad(loadChannels, { topic: TOPIC, batch: cfg.batch, bodyBytes: cfg.body, inflight: cfg.inflight, totalMessages: cfg.messages, keys: true });
    const [indexCpuIngest, brokerCpuIngest] = [index.cpuSeconds() - indexCpu0, broker.cpuSeconds() - brokerCpu0];
    ingesting = false;
    await prober;
    progress(`ingest: ${fmt(load.messages)} messages in ${load.seconds.toFixed(1)} s (${fmt(load.msgsPerSec)} msg/s); waiting for the index to catch up`);
    const lastSend = performance.now();
    const expectedEntries = 2 * (load.messages + probes.length + 1); // key + id per message, the warm-up probe
    for (;;) {
      const s = await client.indexStatus();
      const b = s.brokers?.[0];
      if (b && Number(b.indexed_offset) >= Number(b.max_offset) && Number(s.indexed_entries) >= expectedEntries) break;
      await sleep(20);
    }
    const catchUpMs = performance.now() - lastSend;
    const totalSeconds = load.seconds + catchUpMs / 1000;
    const indexCpu = index.cpuSeconds() - indexCpu0;
    pollDone = true;
    await poller;
    sampling = false;
    clearInterval(ticker);
    await Promise.all([statusSampler, rssSampler]);
    const lagSorted = sorted(lags);

    // b: queries of random sent keys vs the GetMessages baseline
    progress(`queries: ${fmt(cfg.queries)} one at a time, then ${cfg.queryConcurrency} in flight`);
    const requests = Math.ceil(cfg.messages / cfg.batch);
    const randomId = (): string => messageIdOf(load.idTag, Math.floor(Math.random() * requests), Math.floor(Math.random() * cfg.batch));
    let mismatches = 0;
    const check = (id: string, messages: IndexFoundMessage[] | undefined): IndexFoundMessage | undefined => {
      const m = messages?.[0];
      const ok = messages?.length === 1 && m?.message_id === id && m.topic === TOPIC && m.keys?.length === 1 && m.keys[0] === keyOf(id) && m.body?.length === cfg.body;
      if (!ok) mismatches++;
      return ok ? m : undefined;
    };
    const queryTimes: number[] = [];
    const baseTimes: number[] = [];
    for (let q = 0; q < cfg.queries; q++) {
      const id = randomId();
      let t = process.hrtime.bigint();
      const answer = await client.queryByKey({ topic: TOPIC, key: keyOf(id) });
      queryTimes.push(elapsedMs(t));
      const m = check(id, answer.messages);
      if (!m) continue;
      t = process.hrtime.bigint();
      await dispatch.getMessages([String(m.physical_offset)]);
      baseTimes.push(elapsedMs(t));
    }
    const concurrentTimes: number[] = [];
    let left = cfg.queries;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: cfg.queryConcurrency }, async () => {
        while (left-- > 0) {
          const id = randomId();
          const t = process.hrtime.bigint();
          const answer = await client.queryByKey({ topic: TOPIC, key: keyOf(id) });
          concurrentTimes.push(elapsedMs(t));
          check(id, answer.messages);
        }
      }),
    );
    const concurrentPerSec = (cfg.queries / (performance.now() - t0)) * 1000;
    const endRss = rssBytes(index.pid);
    peakRss = Math.max(peakRss, endRss);
    const [q, base, conc] = [sorted(queryTimes), sorted(baseTimes), sorted(concurrentTimes)];

    const rows: Row[] = [
      {
        measure: `a ingest, ${cfg.batch}/request over ${cfg.channels} connections, ${cfg.body} B, 1 key/msg`,
        result: `${fmt(load.msgsPerSec)} msg/s (${fmt(load.messages)} in ${load.seconds.toFixed(1)} s, ${load.failedRequests} failed requests)`,
        target: 'broker max',
        verdict: '–',
      },
      {
        measure: `a lag newest stored → queryable, p50 / p99 / max (${lags.length} probes)`,
        result: `${ms(percentile(lagSorted, 50))} / ${ms(percentile(lagSorted, 99))} / ${ms(lagSorted[lagSorted.length - 1] ?? NaN)}`,
        target: 'p99 < 1 s',
        verdict: verdict(percentile(lagSorted, 99) < 1000),
      },
      { measure: 'a max IndexStatus lag (max_offset of the last batch − indexed_offset)', result: `${fmt(maxLagBytes / 1024)} KiB`, target: '–', verdict: '–' },
      { measure: 'a index caught up after the last send', result: ms(catchUpMs), target: '–', verdict: '–' },
      {
        measure: 'a index-service CPU: ingest / ingest + catch-up',
        result: `${fmt((indexCpuIngest / load.seconds) * 100)}% / ${fmt((indexCpu / totalSeconds) * 100)}% of a core (${fmt((indexCpu / load.messages) * 1e6, 1)} µs/msg)`,
        target: '–',
        verdict: '–',
      },
      { measure: 'a broker CPU during ingest', result: `${fmt((brokerCpuIngest / load.seconds) * 100)}% of a core`, target: '–', verdict: '–' },
      {
        measure: `b QueryByKey one at a time, p50 / p99 (${fmt(cfg.messages)} keys)`,
        result: `${ms(percentile(q, 50))} / ${ms(percentile(q, 99))}`,
        target: 'p99 < 10 ms',
        verdict: verdict(percentile(q, 99) < 10),
      },
      { measure: 'b baseline GetMessages of 1 message, p50 / p99', result: `${ms(percentile(base, 50))} / ${ms(percentile(base, 99))}`, target: '–', verdict: '–' },
      {
        measure: `b QueryByKey ${cfg.queryConcurrency} in flight, p50 / p99, queries/s`,
        result: `${ms(percentile(conc, 50))} / ${ms(percentile(conc, 99))}, ${fmt(concurrentPerSec)}/s`,
        target: '–',
        verdict: '–',
      },
      { measure: `b wrong answers (of ${fmt(2 * cfg.queries)})`, result: String(mismatches), target: '0', verdict: verdict(mismatches === 0) },
      {
        measure: `c index-service RSS, peak / end (${fmt(cfg.messages)} keys)`,
        result: `${mib(peakRss)} / ${mib(endRss)}`,
        target: '< ~300 MB',
        verdict: verdict(peakRss < 300e6),
      },
    ];
    console.log(
      `\nindex-service benchmark: ${fmt(load.messages)} messages; probes ${probes.length} (${probeFailures} failed sends); ` +
        `${fmt(expectedEntries)} index entries`,
    );
    printTable(rows, { measure: 'measure', result: 'value', target: 'target', verdict: 'met?' });
    client.close();
    dispatch.close();
    for (const c of [probeChannel, ...loadChannels]) c.close();
  } finally {
    for (const s of services.reverse()) await s.stop();
  }
  if (profDir) {
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no index-service profile written');
    mkdirSync(outDir, { recursive: true });
    copyFileSync(path.join(profDir, file), path.join(outDir, 'index-service.cpuprofile'));
    const { functions, areas, totalMs } = summariseProfile(path.join(profDir, file), 20);
    console.log(`\nindex-service CPU profile (${fmt(totalMs)} ms busy; kept as ${path.join(outDir, 'index-service.cpuprofile')})`);
    for (const a of areas) console.log(`  ${(a.share * 100).toFixed(1).padStart(5)}%  ${a.name}`);
    console.log('  top functions (self time):');
    for (const f of functions) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
