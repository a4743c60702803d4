/**
 * The master's view of its replicas, in memory only: who is connected (broker id, address), its
 * last report, its written and synced log ends, and when it was last caught up. Lag is measured
 * like RocketMQ's HA connections: bytes = the master's log end - the replica's written end;
 * seconds = 0 while caught up, else the time since the replica was last caught up (its written
 * end reached the master's end). SYNC replication (a later part) will wait on `synced`.
 */

export interface ReplicaState {
  readonly brokerId: number;
  /** host:port the replica says it is reached at ('' when it did not say). */
  readonly address: string;
  readonly connectedAtMs: number;
  lastReportMs: number;
  /** The replica's log end (bytes written). */
  writtenOffset: number;
  /** How much of it the replica has fdatasync-ed. */
  syncedOffset: number;
  /** The last time the replica's written end reached the master's end. */
  lastCaughtUpMs: number;
}

export interface ReplicaLag {
  /** The replica's broker id, as a metric label. */
  readonly replica: string;
  readonly bytes: number;
  readonly seconds: number;
}

export class ReplicaSet {
  private readonly replicas = new Map<number, ReplicaState>();

  constructor(
    private readonly masterEnd: () => number,
    private readonly now: () => number,
  ) {}

  /**
   * A replica connected from `fromOffset`. A second stream of the same broker id replaces the
   * first (a slave that reconnected before the master saw the old stream go); `remove` of the old
   * one then leaves the new one alone.
   */
  connect(brokerId: number, address: string, fromOffset: number): ReplicaState {
    const nowMs = this.now();
    const state: ReplicaState = {
      brokerId,
      address,
      connectedAtMs: nowMs,
      lastReportMs: nowMs,
      writtenOffset: fromOffset,
      syncedOffset: 0,
      lastCaughtUpMs: nowMs,
    };
    this.replicas.set(brokerId, state);
    return state;
  }

  /** Records a progress report of the replica's stream `state`. */
  report(state: ReplicaState, writtenOffset: number, syncedOffset: number): void {
    const nowMs = this.now();
    state.lastReportMs = nowMs;
    state.writtenOffset = writtenOffset;
    state.syncedOffset = syncedOffset;
    if (writtenOffset >= this.masterEnd()) state.lastCaughtUpMs = nowMs;
  }

  /** Forgets the replica's stream `state` (if a newer stream of the same id did not replace it). */
  remove(state: ReplicaState): void {
    if (this.replicas.get(state.brokerId) === state) this.replicas.delete(state.brokerId);
  }

  get(brokerId: number): ReplicaState | undefined {
    return this.replicas.get(brokerId);
  }

  list(): ReplicaState[] {
    return [...this.replicas.values()];
  }

  /** Lag of every connected replica, for the metrics. */
  lags(): ReplicaLag[] {
    const end = this.masterEnd();
    const nowMs = this.now();
    return this.list().map((r) => {
      const bytes = Math.max(0, end - r.writtenOffset);
      return { replica: String(r.brokerId), bytes, seconds: bytes === 0 ? 0 : Math.max(0, nowMs - r.lastCaughtUpMs) / 1_000 };
    });
  }
}
