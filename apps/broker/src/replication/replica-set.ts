/**
 * The master's view of its replicas, in memory only: who is connected (broker id, address), its
 * last report, its written and synced log ends, and when it was last caught up. Lag is measured
 * like RocketMQ's HA connections: bytes = the master's log end - the replica's written end;
 * seconds = 0 while caught up, else the time since the replica was last caught up (its written
 * end reached the master's end).
 *
 * In-sync set (SYNC replication, docs/decisions/0006-replication.md): a replica is in sync while
 * it is connected and its last reported written end is at most `inSyncMaxLagBytes` behind the
 * master's end. It is re-evaluated on every connect, report, disconnect and wait; each change is
 * one log line ("replica joined/left the in-sync set").
 *
 * waitReplicated(end, { synced }, timeoutMs) resolves once an in-sync replica reported its written
 * end (its synced end when `synced`, i.e. the master runs flushMode SYNC) at or past `end`. It
 * rejects with NO_IN_SYNC_REPLICA (v2 HA_NOT_AVAILABLE) at once when no replica is in sync, and
 * with REPLICA_CONFIRM_TIMEOUT (v2 SLAVE_PERSISTENCE_TIMEOUT) after timeoutMs; pending waits are
 * rejected as soon as the in-sync set becomes empty. Both are retriable. With `degradeToAsync`,
 * a wait while no replica is in sync resolves at once instead (counted; one warning per
 * degradation). Waiters sit in one list sorted by end, released in order on each report; one
 * timer is armed for the earliest deadline.
 */
import { ApogeeError } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';

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

export interface InSyncOptions {
  /** Broker group name, for messages. */
  readonly brokerName: string;
  /** A connected replica further behind than this leaves the in-sync set. */
  readonly inSyncMaxLagBytes: number;
  /** With no in-sync replica, SYNC waits resolve at once (counted) instead of failing. */
  readonly degradeToAsync: boolean;
  readonly logger?: Logger;
}

/** Outcomes of SYNC waits that did not get a replica's confirmation, for the metrics. */
export interface SyncWaitCounts {
  timeout: number;
  noInSyncReplica: number;
  degraded: number;
}

interface Waiter {
  readonly end: number;
  readonly synced: boolean;
  readonly deadlineMs: number;
  readonly timeoutMs: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  settled: boolean;
}

const DEFAULT_IN_SYNC: InSyncOptions = { brokerName: '', inSyncMaxLagBytes: Number.MAX_SAFE_INTEGER, degradeToAsync: false };

export class ReplicaSet {
  private readonly replicas = new Map<number, ReplicaState>();
  private readonly inSyncIds = new Set<number>();
  /** Pending waits, sorted by end (ascending). */
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;
  private degraded = false;
  readonly syncWaits: SyncWaitCounts = { timeout: 0, noInSyncReplica: 0, degraded: 0 };

  constructor(
    private readonly masterEnd: () => number,
    private readonly now: () => number,
    private readonly inSync: InSyncOptions = DEFAULT_IN_SYNC,
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
    const replaced = this.replicas.get(brokerId);
    this.replicas.set(brokerId, state);
    if (replaced !== undefined) this.inSyncIds.delete(brokerId);
    this.refreshInSync();
    return state;
  }

  /** Records a progress report of the replica's stream `state`. */
  report(state: ReplicaState, writtenOffset: number, syncedOffset: number): void {
    const nowMs = this.now();
    state.lastReportMs = nowMs;
    state.writtenOffset = writtenOffset;
    state.syncedOffset = syncedOffset;
    if (writtenOffset >= this.masterEnd()) state.lastCaughtUpMs = nowMs;
    this.refreshInSync();
    this.release();
  }

  /** Forgets the replica's stream `state` (if a newer stream of the same id did not replace it). */
  remove(state: ReplicaState): void {
    if (this.replicas.get(state.brokerId) === state) {
      this.replicas.delete(state.brokerId);
      this.refreshInSync();
    }
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

  /** Broker ids of the replicas in sync now (see the file header for the rule). */
  inSyncReplicas(): number[] {
    this.refreshInSync();
    return [...this.inSyncIds];
  }

  /**
   * Resolves once an in-sync replica reported `end` written (synced when `options.synced`);
   * rejects as the file header says. Called after the master's own write of `end` returned.
   */
  waitReplicated(end: number, options: { readonly synced: boolean }, timeoutMs: number): Promise<void> {
    this.refreshInSync();
    if (this.inSyncIds.size === 0) {
      if (this.inSync.degradeToAsync) {
        this.syncWaits.degraded++;
        return Promise.resolve();
      }
      this.syncWaits.noInSyncReplica++;
      return Promise.reject(this.noInSyncError(end));
    }
    if (this.confirmed(options.synced) >= end) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { end, synced: options.synced, deadlineMs: this.now() + timeoutMs, timeoutMs, resolve, reject, settled: false };
      this.insert(waiter);
      this.arm(waiter.deadlineMs);
    });
  }

  /** Rejects every pending wait (the broker stops). */
  close(): void {
    this.clearTimer();
    const pending = this.waiters;
    this.waiters = [];
    for (const w of pending) this.settle(w, new ApogeeError('NO_IN_SYNC_REPLICA', 'The broker is stopping; send again'));
  }

  /** The highest end an in-sync replica confirmed (written, or synced). */
  private confirmed(synced: boolean): number {
    let best = -1;
    for (const id of this.inSyncIds) {
      const r = this.replicas.get(id);
      if (r !== undefined) best = Math.max(best, synced ? r.syncedOffset : r.writtenOffset);
    }
    return best;
  }

  private insert(waiter: Waiter): void {
    const list = this.waiters;
    let i = list.length; // sends end in increasing order: usually appended
    while (i > 0 && list[i - 1].end > waiter.end) i--;
    list.splice(i, 0, waiter);
  }

  /**
   * Releases the waits the in-sync replicas' reports now cover: a prefix of the sorted list (a
   * broker's waits are all of one kind, written or synced, as its flushMode is fixed).
   */
  private release(): void {
    if (this.waiters.length === 0) return;
    const written = this.confirmed(false);
    const synced = this.confirmed(true);
    let i = 0;
    const list = this.waiters;
    while (i < list.length && list[i].end <= written) {
      const w = list[i];
      if (w.synced && w.end > synced) break;
      this.settle(w);
      i++;
    }
    if (i > 0) this.waiters = list.slice(i);
    if (this.waiters.length === 0) this.clearTimer();
  }

  private settle(waiter: Waiter, err?: Error): void {
    if (waiter.settled) return;
    waiter.settled = true;
    if (err === undefined) waiter.resolve();
    else waiter.reject(err);
  }

  private arm(deadlineMs: number): void {
    if (deadlineMs >= this.timerAtMs) return;
    this.clearTimer();
    this.timerAtMs = deadlineMs;
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadlineMs - this.now()));
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }

  /** Rejects the waits past their deadline and re-arms for the earliest remaining one. */
  private expire(): void {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    const nowMs = this.now();
    let next = Infinity;
    this.waiters = this.waiters.filter((w) => {
      if (w.deadlineMs <= nowMs) {
        this.syncWaits.timeout++;
        this.settle(w, this.timeoutError(w));
        return false;
      }
      next = Math.min(next, w.deadlineMs);
      return true;
    });
    if (next !== Infinity) this.arm(next);
  }

  /** Recomputes the in-sync set: logs each change; an empty set fails (or, degrading, releases) the pending waits. */
  private refreshInSync(): void {
    const end = this.masterEnd();
    const { logger, inSyncMaxLagBytes } = this.inSync;
    for (const [id, r] of this.replicas) {
      const lagBytes = Math.max(0, end - r.writtenOffset);
      const inSync = lagBytes <= inSyncMaxLagBytes;
      if (inSync === this.inSyncIds.has(id)) continue;
      const fields = { replica: id, address: r.address, writtenOffset: r.writtenOffset, masterOffset: end, lagBytes, inSyncMaxLagBytes };
      if (inSync) {
        this.inSyncIds.add(id);
        logger?.info(fields, 'replica joined the in-sync set');
      } else {
        this.inSyncIds.delete(id);
        logger?.warn(fields, 'replica left the in-sync set: it fell behind by more than inSyncMaxLagBytes');
      }
    }
    for (const id of this.inSyncIds) {
      if (this.replicas.has(id)) continue;
      this.inSyncIds.delete(id);
      logger?.warn({ replica: id, masterOffset: end }, 'replica left the in-sync set: it disconnected');
    }
    const degradedNow = this.inSync.degradeToAsync && this.inSyncIds.size === 0;
    if (degradedNow !== this.degraded) {
      this.degraded = degradedNow;
      if (degradedNow) logger?.warn({ brokerName: this.inSync.brokerName }, 'SYNC replication degraded to ASYNC: no in-sync slave');
      else logger?.info({ inSync: [...this.inSyncIds] }, 'SYNC replication restored: a slave is in sync again');
    }
    if (this.inSyncIds.size === 0 && this.waiters.length > 0) this.failAll();
  }

  private failAll(): void {
    const pending = this.waiters;
    this.waiters = [];
    this.clearTimer();
    for (const w of pending) {
      if (this.inSync.degradeToAsync) {
        this.syncWaits.degraded++;
        this.settle(w);
      } else {
        this.syncWaits.noInSyncReplica++;
        this.settle(w, this.noInSyncError(w.end));
      }
    }
  }

  private slaveName(id: number): string {
    const r = this.replicas.get(id);
    const at = r === undefined || r.address === '' ? '' : ` (${r.address})`;
    return `${this.inSync.brokerName}-${id}${at}`;
  }

  private noInSyncError(end: number): ApogeeError {
    const connected = this.list().map((r) => `${this.slaveName(r.brokerId)} is ${Math.max(0, this.masterEnd() - r.writtenOffset)} bytes behind`);
    return new ApogeeError(
      'NO_IN_SYNC_REPLICA',
      `SYNC replication: no in-sync slave of ${this.inSync.brokerName} to confirm the write ending at offset ${end} ` +
        `(${connected.length === 0 ? 'no slave is connected' : `${connected.join(', ')}; the bound is ${this.inSync.inSyncMaxLagBytes} bytes`}); ` +
        'the message is stored on the master only; send again',
    );
  }

  private timeoutError(w: Waiter): ApogeeError {
    const names = [...this.inSyncIds].map((id) => this.slaveName(id));
    const who = names.length === 1 ? `slave ${names[0]}` : `none of the slaves ${names.join(', ')}`;
    return new ApogeeError(
      'REPLICA_CONFIRM_TIMEOUT',
      `SYNC replication: ${who} of ${this.inSync.brokerName} did not confirm the write ending at offset ${w.end} ` +
        `(${w.synced ? 'flushed' : 'written'}) within ${w.timeoutMs} ms; the message is stored on the master and may reach the slave later; send again`,
    );
  }
}
