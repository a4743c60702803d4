/**
 * The slave's side of Replicate (proto/apogee/broker/v1/replication.proto): connects to the
 * master, says hello from its own log end, applies every chunk with MessageStore.appendReplicated
 * in order, one at a time (byte-identical append, then the same dispatcher builds the consume
 * queues), and reports its written and synced ends after each chunk.
 *
 * - Any failure (the stream errors or ends, the master restarts, a chunk does not start at the
 *   slave's end, appendReplicated fails) closes the stream and reconnects after a back-off that
 *   doubles from `retry.initialMs` to `retry.maxMs` and resets once a chunk arrives; the new
 *   stream starts from the slave's end again, so nothing is applied twice or skipped.
 * - A master silent for `idleTimeoutMs` (it heartbeats every second) is taken for dead: the
 *   stream is cancelled and re-opened.
 * - One log line per connect and per disconnect, none per chunk.
 * - The hello names the slave's last epoch; a master whose newer epoch began before the slave's
 *   log end answers `truncate` (replication.proto): the slave cuts its log back through
 *   `truncate` (MessageStore.truncateTail and the epoch history) and reconnects at once.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import {
  createReplicationClient,
  ERROR_CODE_METADATA_KEY,
  type ReplicationClient,
  type WireLogChunk,
  type WireReplicaReport,
} from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';

/** What the slave writes to (MessageStore). */
export interface ReplicaStore {
  appendReplicated(from: number, bytes: Buffer): Promise<number>;
  readonly maxPhysicalOffset: number;
  readonly syncedPhysicalOffset: number;
  readonly segmentBytes: number;
}

export interface ReplicaFollowerOptions {
  readonly store: ReplicaStore;
  readonly masterAddress: string;
  readonly brokerName: string;
  readonly brokerId: number;
  /** host:port of this slave, told to the master. */
  readonly address: () => string;
  readonly logger: Logger;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly idleTimeoutMs?: number;
  /** The last epoch of the slave's history (0 without an ha-replicator). */
  readonly lastEpoch?: () => number;
  /** Cuts the slave's log back to `to` (the master said it never had what follows). */
  readonly truncate?: (to: number) => Promise<void>;
}

export const DEFAULT_RETRY = { initialMs: 100, maxMs: 2_000 };
export const DEFAULT_IDLE_TIMEOUT_MS = 5_000;

type Stream = ClientDuplexStream<WireReplicaReport, WireLogChunk>;

export class ReplicaFollower {
  private readonly client: ReplicationClient;
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private stream: Stream | undefined;
  private masterMax = 0;
  private connected = false;
  private warnedUnreachable = false;

  constructor(private readonly options: ReplicaFollowerOptions) {
    this.client = createReplicationClient(options.masterAddress);
    this.logger = options.logger.child({ component: 'replication', master: options.masterAddress });
  }

  /** The master's log end as of its last chunk (0 before the first). */
  get masterMaxOffset(): number {
    return this.masterMax;
  }

  /** Bytes the slave is behind its master, as of the master's last chunk. */
  get lagBytes(): number {
    return Math.max(0, this.masterMax - this.options.store.maxPhysicalOffset);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Closes the stream and the channel; resolves once no chunk is being applied. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.stream?.cancel();
    await this.running;
    this.client.close();
  }

  private async run(): Promise<void> {
    const retry = this.options.retry ?? DEFAULT_RETRY;
    let backoffMs = retry.initialMs;
    while (!this.stopping.signal.aborted) {
      const received = await this.followOnce();
      if (this.stopping.signal.aborted) break;
      backoffMs = received ? retry.initialMs : Math.min(retry.maxMs, backoffMs * 2);
      await sleep(backoffMs, this.stopping.signal);
    }
  }

  /** One stream, until it fails or the follower stops; true when at least one chunk arrived. */
  private async followOnce(): Promise<boolean> {
    const { store } = this.options;
    const stream = this.client.replicate();
    this.stream = stream;
    stream.on('error', () => undefined); // read through the iterator below
    let received = false;
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      if (idle === undefined) idle = setTimeout(() => stream.cancel(), this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
      else idle.refresh();
    };
    const from = store.maxPhysicalOffset;
    let failure: unknown;
    try {
      stream.write({
        hello: {
          broker_name: this.options.brokerName,
          broker_id: this.options.brokerId,
          from_offset: from,
          segment_bytes: store.segmentBytes,
          address: this.options.address(),
          last_epoch: this.options.lastEpoch?.() ?? 0,
        },
      });
      touch();
      for await (const chunk of stream as AsyncIterable<WireLogChunk>) {
        touch();
        if (!received) {
          received = true;
          this.connected = true;
          this.warnedUnreachable = false;
          this.logger.info({ fromOffset: from, masterMaxOffset: Number(chunk.master_max_offset ?? 0) }, 'connected to master');
        }
        if (chunk.truncate === true) {
          await this.truncate(Number(chunk.from_offset ?? 0));
          received = true; // reconnect at once, not after a back-off
          break;
        }
        await this.apply(chunk);
        stream.write({ progress: { written_offset: store.maxPhysicalOffset, synced_offset: store.syncedPhysicalOffset } });
      }
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(idle);
      stream.cancel();
      this.stream = undefined;
    }
    this.logDisconnect(received, failure);
    this.connected = false;
    return received;
  }

  private async truncate(to: number): Promise<void> {
    const { store } = this.options;
    if (this.options.truncate === undefined) {
      throw new Error(`the master asks to cut this slave's log back to ${to}, and this slave cannot truncate`);
    }
    this.logger.warn({ from: store.maxPhysicalOffset, to, bytes: store.maxPhysicalOffset - to }, 'truncating a log tail the master never had');
    await this.options.truncate(to);
  }

  private async apply(chunk: WireLogChunk): Promise<void> {
    const { store } = this.options;
    this.masterMax = Number(chunk.master_max_offset ?? this.masterMax);
    const bytes = chunk.bytes;
    if (bytes === undefined || bytes.length === 0) return;
    const from = Number(chunk.from_offset ?? 0);
    if (from !== store.maxPhysicalOffset) {
      throw new Error(`chunk starts at ${from}, not at this slave's log end ${store.maxPhysicalOffset}`);
    }
    await store.appendReplicated(from, bytes);
  }

  private logDisconnect(received: boolean, failure: unknown): void {
    if (this.stopping.signal.aborted) {
      if (received) this.logger.info({ writtenOffset: this.options.store.maxPhysicalOffset }, 'disconnected from master');
      return;
    }
    const fields = {
      writtenOffset: this.options.store.maxPhysicalOffset,
      code: errorCodeOf(failure),
      error: failure instanceof Error ? failure.message : 'the master ended the stream',
    };
    // A master that stays down or keeps refusing is logged once, not at every retry.
    if (received) this.logger.warn(fields, 'disconnected from master');
    else if (!this.warnedUnreachable) this.logger.warn(fields, 'master not reached');
    else this.logger.debug(fields, 'master not reached');
    this.warnedUnreachable = !received || this.warnedUnreachable;
  }
}

function errorCodeOf(err: unknown): string | undefined {
  const metadata = (err as { metadata?: { get(key: string): unknown[] } } | undefined)?.metadata;
  const fromTrailer = metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  if (typeof fromTrailer === 'string') return fromTrailer;
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === undefined ? undefined : String(code);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
