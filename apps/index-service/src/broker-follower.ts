/**
 * BrokerFollower: keeps one Follow stream open to one broker master (by broker name) and feeds
 * its batches to the Indexer. The stream starts at the indexer's position for the broker (the
 * checkpoint after a restart). On a stream error, an end, or silence for 5 heartbeats, it
 * reconnects after a back-off that doubles from reconnectMinMs to reconnectMaxMs and resets on
 * the first batch. A new address (the broker restarted elsewhere) reconnects at once. While the
 * indexer holds more than maxUnflushedEntries unflushed entries, the stream is paused until the
 * next checkpoint lands (back-pressure to the broker through HTTP/2 flow control).
 */
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from '@apogee/runtime';
import type { BrokerDispatchClient, WireDispatchBatch } from '@apogee/protocol';
import type { ApplyResult, Indexer } from './indexer';

export interface FollowerOptions {
  readonly batchEntries: number;
  readonly heartbeatMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly maxUnflushedEntries: number;
}

export interface FollowerDeps {
  readonly indexer: Indexer;
  readonly client: (address: string) => BrokerDispatchClient;
  readonly logger: Logger;
  readonly onApplied?: (brokerName: string, result: ApplyResult) => void;
  /** Asks for a checkpoint now (the unflushed backlog is large). */
  readonly requestCheckpoint: () => void;
}

export class BrokerFollower {
  private stream: ClientReadableStream<WireDispatchBatch> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private stopped = false;
  private _connected = false;
  private _lastError = '';
  private readonly log: Logger;

  constructor(
    readonly brokerName: string,
    private _address: string,
    private readonly options: FollowerOptions,
    private readonly deps: FollowerDeps,
  ) {
    this.backoffMs = options.reconnectMinMs;
    this.log = deps.logger.child({ broker: brokerName });
  }

  get address(): string {
    return this._address;
  }

  /** Whether a batch arrived on the current stream. */
  get connected(): boolean {
    return this._connected;
  }

  get lastError(): string {
    return this._lastError;
  }

  start(): void {
    this.connect();
  }

  /** The broker now listens at `address`: reconnect there at once. */
  moveTo(address: string): void {
    if (address === this._address || this.stopped) return;
    this.log.info({ from: this._address, to: address }, 'broker moved');
    this._address = address;
    this.backoffMs = this.options.reconnectMinMs;
    this.closeStream();
    this.clearRetry();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    this.closeStream();
  }

  private connect(): void {
    if (this.stopped) return;
    const pos = this.deps.indexer.position(this.brokerName);
    let stream: ClientReadableStream<WireDispatchBatch>;
    try {
      stream = this.deps.client(this._address).follow({
        from_offset: String(pos.nextOffset),
        max_batch_entries: this.options.batchEntries,
        heartbeat_ms: this.options.heartbeatMs,
      });
    } catch (err) {
      this.fail(errorText(err));
      return;
    }
    this.stream = stream;
    this.log.debug({ address: this._address, fromOffset: pos.nextOffset }, 'following');
    stream.on('data', (batch: WireDispatchBatch) => this.onBatch(stream, batch));
    stream.on('error', (err: ServiceError) => {
      if (this.stream !== stream) return;
      this.fail(err.details || err.message);
    });
    stream.on('end', () => {
      if (this.stream === stream) this.fail('stream ended');
    });
    this.armIdle(stream);
  }

  private onBatch(stream: ClientReadableStream<WireDispatchBatch>, batch: WireDispatchBatch): void {
    if (this.stream !== stream) return;
    if (batch.broker_name && batch.broker_name !== this.brokerName) {
      this.fail(`${this._address} is broker ${batch.broker_name}, not ${this.brokerName}`);
      return;
    }
    let result: ApplyResult;
    try {
      result = this.deps.indexer.apply(this.brokerName, batch);
    } catch (err) {
      this.fail(errorText(err));
      return;
    }
    if (!this._connected) this.log.info({ address: this._address, fromOffset: batch.from_offset }, 'following broker');
    this._connected = true;
    this._lastError = '';
    this.backoffMs = this.options.reconnectMinMs;
    this.armIdle(stream);
    this.deps.onApplied?.(this.brokerName, result);
    if (this.deps.indexer.pendingEntries > this.options.maxUnflushedEntries) {
      stream.pause();
      const resume = (): void => {
        if (this.stream === stream) stream.resume();
      };
      this.deps.indexer.afterCheckpoint().then(resume, resume);
      this.deps.requestCheckpoint();
    }
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    if (this._connected || this._lastError !== reason) this.log.warn({ address: this._address, reason, retryMs: this.backoffMs }, 'follow failed');
    this._lastError = reason;
    this.closeStream();
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.reconnectMaxMs);
  }

  private armIdle(stream: ClientReadableStream<WireDispatchBatch>): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.stream === stream && !stream.isPaused()) this.fail(`no batch for ${5 * this.options.heartbeatMs} ms`);
      else if (this.stream === stream) this.armIdle(stream);
    }, 5 * this.options.heartbeatMs);
  }

  private closeStream(): void {
    this._connected = false;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const stream = this.stream;
    this.stream = null;
    if (stream) {
      stream.on('error', () => undefined); // the CANCELLED that cancel() causes
      stream.cancel();
    }
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && (err as ServiceError).code === status.CANCELLED) return 'cancelled';
  return err instanceof Error ? err.message : String(err);
}
