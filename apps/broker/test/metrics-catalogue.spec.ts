import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer, type SimpleConsumer } from 'rocketmq-client-nodejs';
import { TransactionResolution } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb';
import { createBrokerAdminClient } from '@apogee/protocol';
import { WORKSPACE_ROOT, freePort, httpGet, spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { HaGroupCluster, LEASE_MS, MASTER_TIMEOUT_MS } from './failover-fixture';
import { quietClientLogger, shutdownClients, startSimpleConsumer } from './standalone-broker';

// The metric catalogue (docs/metrics.md) against real processes: a nameserver, an ha-replicator
// over a broker group of master and slave, and an index-service, all as child processes. The
// official client sends (normal, delayed, a transaction half left open), receives and acks through
// the group's service address; then every app's /metrics must serve every name its table in the
// doc lists, with the doc's type, and the Grafana dashboard may use no other name. The doc's
// tables are parsed here, so doc, code and dashboard cannot drift apart.

const DOC = path.join(WORKSPACE_ROOT, 'docs', 'metrics.md');
const DASHBOARD = path.join(WORKSPACE_ROOT, 'deploy', 'grafana', 'apogee.json');
const TOPIC = 'metrics-orders';
const DELAY_TOPIC = 'metrics-later';
const TX_TOPIC = 'metrics-tx';
const GROUP_NAME = 'metrics-readers';
const SENT = 3;
const APPS = ['nameserver', 'broker', 'index-service', 'ha-replicator'] as const;
type App = (typeof APPS)[number];

interface DocMetric {
  readonly name: string;
  readonly type: string;
}

/** The doc's tables: `## <app>` sections (and `## Every app`, for all of them), rows `| \`name\` | type | labels | meaning |`. */
function documentedMetrics(): Map<App, DocMetric[]> {
  const sections = readFileSync(DOC, 'utf8').split(/^## /m).slice(1);
  const rowsOf = (section: string): DocMetric[] =>
    [...section.matchAll(/^\| `(apogee_[a-z0-9_]+)` \| (counter|gauge|histogram|summary) \|/gm)].map((m) => ({ name: m[1], type: m[2] }));
  const titled = new Map(sections.map((s) => [s.slice(0, s.indexOf('\n')).trim(), rowsOf(s)]));
  const common = titled.get('Every app') ?? [];
  return new Map(APPS.map((app) => [app, [...common, ...(titled.get(app) ?? [])]]));
}

/** Metric name → type, from the `# TYPE` lines of an exposition. */
function declaredTypes(exposition: string): Map<string, string> {
  return new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

/** The value of the first sample of `name` whose labels include every `labels` pair; undefined without one. */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const m of exposition.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const set = m[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) return Number(m[2]);
  }
  return undefined;
}

async function scrape(service: SpawnedService): Promise<string> {
  return (await httpGet(service.metricsAddress, '/metrics')).body;
}

/** Every `expr` string anywhere in the dashboard JSON. */
function expressions(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) expressions(item, out);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'expr' && typeof value === 'string') out.push(value);
      else expressions(value, out);
    }
  }
  return out;
}

describe('the metric catalogue (docs/metrics.md) and the Grafana dashboard', () => {
  const documented = documentedMetrics();
  let dir: string;
  let cluster: HaGroupCluster | undefined;
  let index: SpawnedService | undefined;
  let producer: Producer | undefined;
  let consumer: SimpleConsumer | undefined;
  let masterId = -1;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-metrics-'));
    const group = new HaGroupCluster({ dir, replicationMode: 'ASYNC', replicas: 2 });
    cluster = group;
    // HaGroupCluster.start, with the independent processes started side by side
    group.serviceAddress = `127.0.0.1:${await freePort()}`;
    group.nameserver = await spawnService({ app: 'nameserver' });
    const haArgs = [
      ...['--data-dir', path.join(dir, 'ha'), '--master-timeout-ms', String(MASTER_TIMEOUT_MS), '--lease-ms', String(LEASE_MS), '--tick-ms', '100'],
    ];
    const indexArgs = [
      ...['--data-dir', path.join(dir, 'index'), '--nameservers', group.nameserver.grpcAddress, '--discovery-interval-ms', '200'],
      ...['--follow-heartbeat-ms', '200', '--checkpoint-interval-ms', '50'],
    ];
    [group.ha, index] = await Promise.all([
      spawnService({ app: 'ha-replicator', args: haArgs }),
      spawnService({ app: 'index-service', args: indexArgs }),
    ]);
    await Promise.all([group.startReplica(0), group.startReplica(1)]);
    const ha = await group.waitMaster(() => true, 'a master');
    masterId = ha.master_replica_id ?? -1;
    const admin = createBrokerAdminClient(group.replicas.get(masterId)!.grpcAddress);
    try {
      for (const [name, type] of [
        [TOPIC, 'NORMAL'],
        [DELAY_TOPIC, 'DELAY'],
        [TX_TOPIC, 'TRANSACTION'],
      ] as const) {
        await admin.call('CreateTopic', { name, read_queue_count: 2, write_queue_count: 2, message_type: type });
      }
    } finally {
      admin.close();
    }
  }, 40_000);

  afterAll(async () => {
    await shutdownClients([consumer, producer]);
    await Promise.all([...(cluster?.replicas.values() ?? [])].map((r) => r.stop('SIGTERM').catch(() => r.kill())));
    for (const s of [index, cluster?.ha, cluster?.nameserver]) await s?.stop('SIGTERM').catch(() => s.kill());
    cluster?.stopAll();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('documents metric tables for every app', () => {
    for (const app of APPS) expect((documented.get(app) ?? []).length).toBeGreaterThan(6);
    const all = [...documented.values()].flat().map((m) => m.name);
    for (const name of all) expect(name).toMatch(/^apogee_[a-z0-9_]+$/);
  });

  it('serves every documented metric after real traffic, with the documented type', async () => {
    const group = cluster!;
    const endpoint = group.serviceAddress;
    const master = group.replicas.get(masterId)!;
    const slave = group.replicas.get(1 - masterId)!;
    const logsBefore = master.logs.length;
    producer = new Producer({
      endpoints: endpoint,
      namespace: '',
      topics: [TOPIC, DELAY_TOPIC, TX_TOPIC],
      sslEnabled: false,
      logger: quietClientLogger,
      checker: { check: async () => TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED },
    });
    await producer.startup();
    for (let i = 0; i < SENT; i++) await producer.send({ topic: TOPIC, tag: 't', keys: [`k-${i}`], body: Buffer.from(`message ${i}`) });
    await producer.send({ topic: DELAY_TOPIC, body: Buffer.from('later'), deliveryTimestamp: new Date(Date.now() + 120_000) });
    const transaction = producer.beginTransaction();
    await producer.send({ topic: TX_TOPIC, body: Buffer.from('half') }, transaction); // left open: a pending transaction

    consumer = await startSimpleConsumer(endpoint, GROUP_NAME, TOPIC, 1_000);
    let acked = 0;
    await waitFor(
      async () => {
        for (const message of await consumer!.receive(16, 10_000)) {
          await consumer!.ack(message);
          acked++;
        }
        return acked >= SENT;
      },
      { what: 'the messages received and acked', timeoutMs: 10_000, intervalMs: 0 },
    );

    // what the components report a moment later: the delayed message filed, the flush sampled,
    // the index caught up with the group, the slave connected
    const scraped = await waitFor(
      async () => {
        const texts = {
          nameserver: await scrape(group.nameserver),
          master: await scrape(master),
          slave: await scrape(slave),
          index: await scrape(index!),
          ha: await scrape(group.ha),
        };
        const ready =
          (sample(texts.master, 'apogee_broker_timers_pending') ?? 0) >= 1 &&
          (sample(texts.master, 'apogee_broker_flush_latency_seconds_count') ?? 0) >= 1 &&
          sample(texts.master, 'apogee_replication_lag_bytes') !== undefined &&
          sample(texts.index, 'apogee_index_lag_bytes', { broker: 'ha' }) !== undefined &&
          sample(texts.ha, 'apogee_ha_replica_lag_bytes', { broker: 'ha' }) !== undefined &&
          sample(texts.nameserver, 'apogee_nameserver_live_brokers') === 2;
        return ready ? texts : undefined;
      },
      { what: 'every component reporting', timeoutMs: 10_000, intervalMs: 200 },
    );

    const byApp: Array<[App, string]> = [
      ['nameserver', scraped.nameserver],
      ['broker', scraped.master],
      ['broker', scraped.slave],
      ['index-service', scraped.index],
      ['ha-replicator', scraped.ha],
    ];
    for (const [app, text] of byApp) {
      const types = declaredTypes(text);
      const missing = (documented.get(app) ?? []).filter((m) => types.get(m.name) !== m.type).map((m) => `${m.name} (${m.type})`);
      expect({ app, missing }).toEqual({ app, missing: [] });
    }

    // the traffic itself, on the master
    const m = scraped.master;
    expect(sample(m, 'apogee_broker_master')).toBe(1);
    expect(sample(scraped.slave, 'apogee_broker_master')).toBe(0);
    expect(sample(m, 'apogee_broker_messages_in_total', { topic: TOPIC })).toBe(SENT);
    expect(sample(m, 'apogee_broker_bytes_in_total', { topic: TOPIC })).toBe(SENT * 'message 0'.length);
    expect(sample(m, 'apogee_broker_messages_in_total', { topic: DELAY_TOPIC })).toBe(1);
    expect(sample(m, 'apogee_broker_messages_in_total', { topic: TX_TOPIC })).toBe(1);
    expect(sample(m, 'apogee_broker_messages_out_total', { topic: TOPIC })).toBeGreaterThanOrEqual(SENT);
    expect(sample(m, 'apogee_broker_bytes_out_total', { topic: TOPIC })).toBeGreaterThan(SENT * 'message 0'.length);
    expect(sample(m, 'apogee_broker_acks_total', { topic: TOPIC })).toBe(SENT);
    expect(sample(m, 'apogee_broker_send_latency_seconds_count', { topic: TOPIC })).toBe(SENT);
    expect(sample(m, 'apogee_broker_receive_latency_seconds_count', { topic: TOPIC })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'apogee_broker_consumer_lag_messages', { group: GROUP_NAME })).toBe(0);
    expect(sample(m, 'apogee_broker_inflight_messages', { group: GROUP_NAME })).toBe(0);
    expect(sample(m, 'apogee_broker_transactions_pending')).toBe(1);
    expect(sample(m, 'apogee_broker_store_size_bytes')).toBeGreaterThan(0);
    const disk = sample(m, 'apogee_broker_disk_used_ratio') ?? -1;
    expect(disk > 0 && disk < 1).toBe(true);
    expect(sample(scraped.ha, 'apogee_ha_group_epoch', { broker: 'ha' })).toBeGreaterThanOrEqual(1);
    expect(sample(scraped.ha, 'apogee_ha_failovers', { broker: 'ha' })).toBe(0);

    // logs: the broker's lines carry its name, and the traffic logged no line per message at info
    const during = master.logs.slice(logsBefore);
    expect(during.filter((line) => line.broker !== 'ha')).toEqual([]);
    const info = during.filter((line) => Number(line.level) >= 30).map((line) => line.msg);
    expect(info).toContain('group auto-created'); // the consumer's group
    expect(new Set(info).size).toBe(info.length); // a line per message or request would repeat
  }, 30_000);

  it('has a Grafana dashboard that uses only documented names', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      templating: { list: { name: string; type: string; query: string }[] };
      panels: { title: string; datasource?: { uid?: string } }[];
    };
    const datasource = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(datasource).toMatchObject({ query: 'prometheus' });
    const types = new Map([...documented.values()].flat().map((m) => [m.name, m.type]));
    const used = new Set(readFileSync(DASHBOARD, 'utf8').match(/apogee_[a-z0-9_]+/g) ?? []); // queries, variables, anywhere
    expect(expressions(dashboard).length).toBeGreaterThan(20);
    const base = (name: string): string => {
      const stem = name.replace(/_(bucket|count|sum)$/, '');
      return stem !== name && types.get(stem) === 'histogram' ? stem : name;
    };
    expect([...used].filter((name) => !types.has(base(name)))).toEqual([]);
    expect(used.size).toBeGreaterThan(15);
    for (const panel of dashboard.panels.filter((p) => p.datasource !== undefined)) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: `\${${datasource!.name}}` });
    }
  });
});
