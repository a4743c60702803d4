import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkHealth, createHaControllerClient, type WireListGroupsResponse } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { startEtcd, type EtcdServer } from './etcd-server';

// Two ha-replicator processes elected through a real etcd, one broker reporting to both: exactly
// one acts; kill -9 the acting one and the other takes over, keeping the broker master of the
// same epoch (no failover, since the broker never went silent) with its lease renewed. A second
// broker knows only the non-acting one (as behind a Kubernetes Service): it is sent on to the
// acting one and leased too.

jest.setTimeout(60_000);

const TTL_SECONDS = 2;
const MASTER_HEALTH = 'apogee.broker.Master';

async function groupsOf(replicator: SpawnedService): Promise<WireListGroupsResponse> {
  const client = createHaControllerClient(replicator.grpcAddress);
  try {
    return await client.listGroups(2_000);
  } finally {
    client.close();
  }
}

describe('two ha-replicators with etcd', () => {
  let dir = '';
  let etcd: EtcdServer;
  const replicators: SpawnedService[] = [];
  let broker: SpawnedService;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-ha-takeover-'));
    etcd = await startEtcd();
    for (const name of ['a', 'b']) {
      replicators.push(
        await spawnService({
          app: 'ha-replicator',
          args: [
            ...['--data-dir', path.join(dir, name), '--etcd-endpoints', etcd.endpoint, '--election-ttl-seconds', String(TTL_SECONDS)],
            ...['--master-timeout-ms', '2000', '--lease-ms', '1500'],
          ],
        }),
      );
    }
    broker = await spawnService({
      app: 'broker',
      args: [
        ...['--nameservers', '', '--broker-name', 'ha', '--data-dir', path.join(dir, 'broker')],
        ...['--ha-replicators', replicators.map((r) => r.grpcAddress).join(','), '--ha-heartbeat-ms', '250'],
      ],
    });
  });

  afterAll(async () => {
    broker?.kill();
    for (const r of replicators) r.kill();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('has exactly one acting ha-replicator, and the other takes over when it is killed -9', async () => {
    const acting = await waitFor(
      async () => {
        const answers = await Promise.all(replicators.map(groupsOf));
        const actors = replicators.filter((_, i) => answers[i].acting === true);
        const group = answers.find((a) => a.acting)?.groups?.find((g) => g.broker_name === 'ha');
        return actors.length === 1 && group?.master_replica_id === 0 ? actors[0] : undefined;
      },
      { what: 'one acting ha-replicator with the broker as master', timeoutMs: 20_000 },
    );
    await waitFor(async () => (await checkHealth(broker.grpcAddress, { service: MASTER_HEALTH })) === 'SERVING', { what: 'the lease' });
    const other = replicators.find((r) => r !== acting) as SpawnedService;
    expect((await groupsOf(other)).acting).toBe(false);
    const redirected = await spawnService({
      app: 'broker',
      args: [
        ...['--nameservers', '', '--broker-name', 'ha2', '--data-dir', path.join(dir, 'broker2')],
        ...['--ha-replicators', other.grpcAddress, '--ha-heartbeat-ms', '250'],
      ],
    });
    try {
      await waitFor(async () => (await checkHealth(redirected.grpcAddress, { service: MASTER_HEALTH })) === 'SERVING', {
        what: 'the broker that knows only the non-acting ha-replicator leased through the acting one',
        timeoutMs: 10_000,
      });
    } finally {
      redirected.kill();
    }

    acting.kill();
    await acting.exited;
    const killedAt = Date.now();
    const group = await waitFor(
      async () => {
        const answer = await groupsOf(other);
        return answer.acting === true ? answer.groups?.find((g) => g.broker_name === 'ha' && g.master_replica_id === 0) : undefined;
      },
      { what: 'the other ha-replicator acting', timeoutMs: 20_000 },
    );
    const tookOverMs = Date.now() - killedAt;
    expect(Number(group.epoch)).toBe(1); // the same master: no failover
    await waitFor(async () => (await checkHealth(broker.grpcAddress, { service: MASTER_HEALTH })) === 'SERVING', {
      what: 'the lease renewed by the new acting ha-replicator',
      timeoutMs: 10_000,
    });
    process.stdout.write(`ha-replicator takeover: acting ${tookOverMs} ms after kill -9 (etcd TTL ${TTL_SECONDS} s)\n`);
    expect(tookOverMs).toBeLessThan(TTL_SECONDS * 1_000 * 4);
  });
});
