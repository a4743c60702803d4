import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { createReplicationClient, ERROR_CODE_METADATA_KEY, type WireLogChunk } from '@apogee/protocol';
import { createLogger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { waitFor } from '@apogee/testing';
import { ReplicaFollower, type ReplicaStore } from './replica-follower';
import { createReplicationService, type ReplicationService } from './replication-service';
import { notMasterError } from './slave-writes';

const logger = createLogger({ app: 'broker', level: 'silent' });
const SEGMENT_BYTES = 8 * 1024 * 1024;

/** A master's log: records are appended whole; readLogBytes returns whole records. */
class FakeMasterStore {
  readonly records: Buffer[] = [];
  private readonly listeners = new Set<() => void>();
  readonly segmentBytes = SEGMENT_BYTES;

  get maxPhysicalOffset(): number {
    return this.records.reduce((n, r) => n + r.length, 0);
  }

  append(record: Buffer): void {
    this.records.push(record);
    for (const l of this.listeners) l();
  }

  readLogBytes(from: number, maxBytes: number): { bytes: Buffer; next: number } {
    let pos = 0;
    const out: Buffer[] = [];
    let size = 0;
    for (const r of this.records) {
      if (pos >= from && (size === 0 || size + r.length <= maxBytes)) {
        out.push(r);
        size += r.length;
      }
      pos += r.length;
    }
    return { bytes: Buffer.concat(out), next: from + size };
  }

  /** The WriteWaiter only needs to be woken: listeners are called without a record. */
  onDispatch(listener: Parameters<MessageStore['onDispatch']>[0]): () => void {
    const wake = listener as unknown as () => void;
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }
}

class FakeReplicaStore implements ReplicaStore {
  log = Buffer.alloc(0);
  readonly segmentBytes: number;
  constructor(segmentBytes = SEGMENT_BYTES) {
    this.segmentBytes = segmentBytes;
  }
  get maxPhysicalOffset(): number {
    return this.log.length;
  }
  get syncedPhysicalOffset(): number {
    return this.log.length;
  }
  async appendReplicated(from: number, bytes: Buffer): Promise<number> {
    if (from !== this.log.length) throw new Error(`mismatch ${from} ${this.log.length}`);
    this.log = Buffer.concat([this.log, bytes]);
    return this.log.length;
  }
}

describe('replication (master service and slave follower, fake stores)', () => {
  let server: Server;
  let service: ReplicationService;
  let master: FakeMasterStore;
  let address = '';
  const followers: ReplicaFollower[] = [];

  beforeEach(async () => {
    master = new FakeMasterStore();
    service = createReplicationService({ store: master, brokerName: 'b1', clock: { now: Date.now }, logger, heartbeatMs: 50 });
    server = new Server();
    server.addService(service.registration.definition, service.registration.implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });

  afterEach(async () => {
    for (const f of followers.splice(0)) await f.stop();
    service.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const follow = (store: ReplicaStore, over: { brokerName?: string; brokerId?: number } = {}): ReplicaFollower => {
    const follower = new ReplicaFollower({
      store,
      masterAddress: address,
      brokerName: over.brokerName ?? 'b1',
      brokerId: over.brokerId ?? 1,
      address: () => '127.0.0.1:1',
      logger,
      retry: { initialMs: 10, maxMs: 50 },
    });
    followers.push(follower);
    follower.start();
    return follower;
  };

  it('copies the log byte for byte, then follows new writes, in chunks of at most 1 MiB', async () => {
    for (let i = 0; i < 40; i++) master.append(Buffer.alloc(100_000, i));
    const replica = new FakeReplicaStore();
    const follower = follow(replica);
    await waitFor(() => replica.maxPhysicalOffset === master.maxPhysicalOffset, { what: 'the backlog copied' });
    master.append(Buffer.from('one more'));
    await waitFor(() => replica.maxPhysicalOffset === master.maxPhysicalOffset, { what: 'a new write copied' });
    expect(replica.log.equals(Buffer.concat(master.records))).toBe(true);
    await waitFor(() => service.replicas.get(1)?.writtenOffset === master.maxPhysicalOffset, { what: 'the report' });
    expect(service.replicas.lags()).toEqual([{ replica: '1', bytes: 0, seconds: 0 }]);
    expect(follower.lagBytes).toBe(0);
    expect(service.replicas.get(1)?.address).toBe('127.0.0.1:1');
  });

  const refusal = (hello: Record<string, unknown>): Promise<{ code: number; apogee: unknown; details: string }> => {
    const client = createReplicationClient(address);
    const call = client.replicate();
    call.write({ hello: { broker_name: 'b1', broker_id: 1, from_offset: 0, segment_bytes: SEGMENT_BYTES, ...hello } });
    return new Promise((resolve) => {
      call.on('data', (_chunk: WireLogChunk) => undefined);
      call.on('error', (err: { code: number; details: string; metadata: { get(k: string): unknown[] } }) => {
        client.close();
        resolve({ code: err.code, apogee: err.metadata.get(ERROR_CODE_METADATA_KEY)[0], details: err.details });
      });
    });
  };

  it.each([
    [{ broker_name: 'b2' }, status.FAILED_PRECONDITION, 'REPLICA_REFUSED', 'this master is of "b1"'],
    [{ broker_id: 0 }, status.FAILED_PRECONDITION, 'REPLICA_REFUSED', '0 is the master'],
    [{ segment_bytes: 1234 }, status.FAILED_PRECONDITION, 'REPLICA_REFUSED', "its segmentBytes is 1234, the master's 8388608"],
    [{ from_offset: 10 }, status.OUT_OF_RANGE, 'REPLICA_AHEAD_OF_MASTER', "ends at 10, past the master's end 3"],
  ])('refuses the hello %j', async (hello, code, apogee, details) => {
    master.append(Buffer.from('abc'));
    const answer = await refusal(hello);
    expect(answer).toMatchObject({ code, apogee });
    expect(answer.details).toContain(details);
    expect(service.replicas.list()).toEqual([]);
  });

  it('on a slave, refuses every replica with NOT_MASTER naming the master', async () => {
    service.close();
    const slaveService = createReplicationService({
      store: master,
      brokerName: 'b1',
      role: {
        replicaRefusal: () => notMasterError('Replicate', 'b1', 'm:1'),
        epoch: 0,
        endOffsetOf: () => 0,
      },
      clock: { now: Date.now },
      logger,
    });
    const other = new Server();
    other.addService(slaveService.registration.definition, slaveService.registration.implementation);
    const port = await new Promise<number>((resolve, reject) =>
      other.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const saved = address;
    address = `127.0.0.1:${port}`;
    try {
      const answer = await refusal({});
      expect(answer).toMatchObject({ code: status.UNAVAILABLE, apogee: 'NOT_MASTER' });
      expect(answer.details).toContain('m:1');
    } finally {
      address = saved;
      slaveService.close();
      await new Promise<void>((resolve) => other.tryShutdown(() => resolve()));
    }
  });

  it('reports lag while a replica is behind', async () => {
    const replica = new FakeReplicaStore();
    let release: (() => void) | undefined;
    const slow: ReplicaStore = {
      get maxPhysicalOffset() {
        return replica.maxPhysicalOffset;
      },
      get syncedPhysicalOffset() {
        return replica.syncedPhysicalOffset;
      },
      segmentBytes: SEGMENT_BYTES,
      appendReplicated: async (from, bytes) => {
        await new Promise<void>((resolve) => (release = resolve));
        return replica.appendReplicated(from, bytes);
      },
    };
    follow(slow);
    await waitFor(() => service.replicas.get(1) !== undefined, { what: 'the replica connected' });
    master.append(Buffer.alloc(1000));
    await waitFor(() => release !== undefined, { what: 'a chunk being applied' });
    await waitFor(() => (service.replicas.lags()[0]?.seconds ?? 0) > 0, { what: 'lag seconds' });
    expect(service.replicas.lags()[0]).toMatchObject({ replica: '1', bytes: 1000 });
    release?.();
    await waitFor(() => service.replicas.lags()[0]?.bytes === 0, { what: 'caught up' });
  });
});
