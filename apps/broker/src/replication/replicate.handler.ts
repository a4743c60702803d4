/**
 * Replicate (proto/apogee/broker/v1/replication.proto), the master's side: checks the slave's
 * hello, then streams its commit log from the slave's end as LogChunks of whole records
 * (MessageStore.readLogBytes, at most REPLICATION_MAX_CHUNK_BYTES each) and records the slave's
 * progress reports in the ReplicaSet.
 *
 * - Hello: another broker name, broker id 0, another segment size → REPLICA_REFUSED; from_offset
 *   past the log's end → REPLICA_AHEAD_OF_MASTER (naming both offsets); this broker a slave →
 *   NOT_MASTER. A first report that is not a hello → BAD_REQUEST.
 * - Caught up: waits for a write (WriteWaiter); when none came within HEARTBEAT_MS of the last
 *   chunk, sends an empty chunk (a heartbeat), so the slave can tell a quiet master from a dead
 *   one and keep its lag current.
 * - Backpressure: when write() returns false, waits for 'drain' (NODE-PERFORMANCE §7): a slow
 *   slave holds at most the stream's buffer of chunks (16 × 1 MiB) in memory.
 * - End: the slave cancels or ends its side, or the broker stops (the service's close(): the
 *   stream ends with OK and the slave reconnects, to this broker after its restart). A read
 *   failure (retention deleted from_offset, a corrupt record) ends it with the mapped status.
 * One log line per replica connect and disconnect, none per chunk.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  ApogeeError,
  REPLICATION_MAX_CHUNK_BYTES,
  toGrpcStatus,
  type WireLogChunk,
  type WireReplicaHello,
  type WireReplicaReport,
} from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { WriteWaiter } from '../dispatch/write-waiter';
import type { ReplicaSet, ReplicaState } from './replica-set';
import { drainOrStop } from '../stream-backpressure';

export const HEARTBEAT_MS = 1_000;

export type ReplicateStream = ServerDuplexStream<WireReplicaReport, WireLogChunk>;

/** What the master reads (MessageStore). */
export interface ReplicationSourceStore {
  readLogBytes(from: number, maxBytes: number): { bytes: Buffer; next: number };
  readonly maxPhysicalOffset: number;
  readonly segmentBytes: number;
}

/** The broker's role as replication sees it (start-broker.ts builds it from BrokerRole and the EpochHistory). */
export interface ReplicationSourceRole {
  /** Why replicas are refused now (this broker is not the master: no chained replication), or undefined. */
  replicaRefusal(): ApogeeError | undefined;
  /** The master's current epoch (0 without an ha-replicator). */
  readonly epoch: number;
  /** Where `epoch` ended in the master's history: the start of its next epoch, else the log end. */
  endOffsetOf(epoch: number): number;
}

export interface ReplicateDeps {
  readonly store: ReplicationSourceStore;
  readonly brokerName: string;
  /** Absent: always a master at epoch 0. */
  readonly role?: ReplicationSourceRole;
  readonly replicas: ReplicaSet;
  readonly waiter: WriteWaiter;
  readonly now: () => number;
  readonly logger: Logger;
  /** Aborts when the service closes (the broker stops): every stream ends. */
  readonly closed: AbortSignal;
  readonly heartbeatMs?: number;
}

export function replicateHandler(deps: ReplicateDeps): (call: ReplicateStream) => void {
  return (call) => {
    const stop = new AbortController();
    const abort = (): void => stop.abort();
    call.once('cancelled', abort);
    call.once('end', abort); // the slave half-closed: it is leaving
    call.once('error', abort);
    deps.closed.addEventListener('abort', abort, { once: true });
    if (deps.closed.aborted) abort();
    let replica: ReplicaState | undefined;
    const finish = (err?: unknown): void => {
      deps.closed.removeEventListener('abort', abort);
      call.removeAllListeners('data');
      if (replica !== undefined) {
        deps.replicas.remove(replica);
        const fields = { replica: replica.brokerId, address: replica.address, writtenOffset: replica.writtenOffset };
        if (err === undefined) deps.logger.info(fields, 'replica disconnected');
        else deps.logger.warn({ ...fields, err }, 'replica disconnected');
      }
      if (err === undefined) {
        if (!call.cancelled) call.end();
        return;
      }
      const answer = toGrpcStatus(err);
      if (answer.errorCode === 'INTERNAL') deps.logger.error({ err }, 'replication failed');
      else if (replica === undefined) deps.logger.warn({ code: answer.errorCode, error: answer.details }, 'replica refused');
      if (!call.cancelled) call.emit('error', answer);
    };
    call.once('data', (first: WireReplicaReport) => {
      let from: number;
      try {
        const start = checkHello(deps, first.hello);
        if ('truncateTo' in start) {
          tellToTruncate(deps, call, first.hello as WireReplicaHello, start.truncateTo);
          finish();
          return;
        }
        from = start.from;
      } catch (err) {
        finish(err);
        return;
      }
      const hello = first.hello as WireReplicaHello;
      replica = deps.replicas.connect(hello.broker_id ?? 0, hello.address ?? '', from);
      const state = replica;
      deps.logger.info({ replica: state.brokerId, address: state.address, fromOffset: from }, 'replica connected');
      call.on('data', (report: WireReplicaReport) => {
        const progress = report.progress;
        if (progress === undefined) return;
        deps.replicas.report(state, Number(progress.written_offset ?? 0), Number(progress.synced_offset ?? 0));
      });
      streamLog(deps, call, from, stop.signal).then(
        () => finish(),
        (err: unknown) => finish(err),
      );
    });
  };
}

/** The one chunk to a replica with a tail this master never had: cut back to `to`, then reconnect. */
function tellToTruncate(deps: ReplicateDeps, call: ReplicateStream, hello: WireReplicaHello, to: number): void {
  const fields = { replica: hello.broker_id ?? 0, address: hello.address ?? '', from: Number(hello.from_offset ?? 0), to };
  deps.logger.warn(fields, "replica's log goes past where its epoch ended here; telling it to truncate");
  call.write({ from_offset: to, truncate: true, master_max_offset: deps.store.maxPhysicalOffset, master_time_ms: deps.now() });
}

/** Where to stream from, where the replica must cut its log back to first, or the refusal of the hello. */
function checkHello(deps: ReplicateDeps, hello: WireReplicaHello | undefined): { from: number } | { truncateTo: number } {
  const refusal = deps.role?.replicaRefusal();
  if (refusal !== undefined) throw refusal;
  if (hello === undefined) {
    throw new ApogeeError('BAD_REQUEST', 'The first report of a Replicate stream must be a hello');
  }
  const name = hello.broker_name ?? '';
  if (name !== deps.brokerName) {
    throw new ApogeeError(
      'REPLICA_REFUSED',
      `Replica of broker group ${JSON.stringify(name)} refused: this master is of ${JSON.stringify(deps.brokerName)}; ` +
        "set the slave's brokerName to its master's",
    );
  }
  const id = hello.broker_id ?? 0;
  if (id === 0) {
    throw new ApogeeError('REPLICA_REFUSED', 'Replica with broker id 0 refused: 0 is the master; give each slave an id of 1 or more');
  }
  const segmentBytes = Number(hello.segment_bytes ?? 0);
  if (segmentBytes !== deps.store.segmentBytes) {
    throw new ApogeeError(
      'REPLICA_REFUSED',
      `Replica ${id} refused: its segmentBytes is ${segmentBytes}, the master's ${deps.store.segmentBytes}; ` +
        'a byte-identical log needs the same segment size',
    );
  }
  const from = Number(hello.from_offset ?? 0);
  const end = deps.store.maxPhysicalOffset;
  if (!Number.isSafeInteger(from) || from < 0) {
    throw new ApogeeError('BAD_REQUEST', `Replica ${id}: from_offset ${String(hello.from_offset)} is not an offset`);
  }
  const replicaEpoch = Number(hello.last_epoch ?? 0);
  const epoch = deps.role?.epoch ?? 0;
  if (replicaEpoch > epoch) {
    throw new ApogeeError(
      'STALE_EPOCH',
      `Replica ${id} refused: it knows epoch ${replicaEpoch}, this master only ${epoch}; it follows a newer master`,
    );
  }
  if (replicaEpoch < epoch && deps.role !== undefined) {
    const epochEnd = Math.min(deps.role.endOffsetOf(replicaEpoch), end);
    if (from > epochEnd) return { truncateTo: epochEnd };
  }
  if (from > end) {
    throw new ApogeeError(
      'REPLICA_AHEAD_OF_MASTER',
      `Replica ${id} refused: its commit log ends at ${from}, past the master's end ${end}; ` +
        `the slave holds ${from - end} bytes the master never had and must truncate them first`,
    );
  }
  return { from };
}

async function streamLog(deps: ReplicateDeps, call: ReplicateStream, from: number, stop: AbortSignal): Promise<void> {
  const { store } = deps;
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  let pos = from;
  let lastSentMs = -Infinity; // the first chunk goes at once: the slave learns the master's end
  while (!stop.aborted) {
    const { bytes, next } = store.readLogBytes(pos, REPLICATION_MAX_CHUNK_BYTES);
    if (bytes.length > 0 || deps.now() - lastSentMs >= heartbeatMs) {
      const chunk: WireLogChunk = {
        from_offset: pos,
        bytes,
        master_max_offset: store.maxPhysicalOffset,
        master_time_ms: deps.now(),
      };
      if (!call.write(chunk)) await drainOrStop(call, stop);
      lastSentMs = deps.now();
      if (bytes.length > 0) pos = next;
    }
    if (pos >= store.maxPhysicalOffset) {
      await deps.waiter.wait(pos, heartbeatMs - (deps.now() - lastSentMs), stop);
    } else {
      await yieldToLoop();
    }
  }
}
