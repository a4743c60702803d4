/**
 * Leader election for the ha-replicator: several may run, exactly one acts (the leader).
 * `LeaderElection` is what the app uses; `soloElection` is the trivial one for a single
 * ha-replicator with no etcd configured, and `EtcdLeaderElection` (etcd-election.ts) is the real one.
 */

export interface LeaderElection {
  /** True while this candidate is the elected leader and may act. */
  readonly isLeader: boolean;
  /**
   * Called with true when this candidate becomes leader, false when it stops being leader (lost
   * lease, etcd unreachable, stop()). Returns a function that removes the listener.
   */
  onChange(listener: (isLeader: boolean) => void): () => void;
  /** Begins campaigning; resolves once the campaign is running (not necessarily elected). */
  start(): Promise<void>;
  /** Resigns if leader (so another candidate takes over at once), releases resources; idempotent. */
  stop(): Promise<void>;
  /** The elected candidate's id (its advertised address), when there is one. */
  leaderId(): Promise<string | undefined>;
}

/** The listeners of one election and its current isLeader, notifying only on a change. */
export class LeadershipState {
  private leader = false;
  private readonly listeners = new Set<(isLeader: boolean) => void>();

  get isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Sets isLeader and calls every listener if it changed. A throwing listener does not stop the others. */
  set(isLeader: boolean, onListenerError: (err: unknown) => void): void {
    if (this.leader === isLeader) return;
    this.leader = isLeader;
    for (const listener of [...this.listeners]) {
      try {
        listener(isLeader);
      } catch (err) {
        onListenerError(err);
      }
    }
  }
}

/** Leader from start() until stop(): for a single ha-replicator, with no etcd. `id`: its own address. */
export function soloElection(id = ''): LeaderElection {
  const state = new LeadershipState();
  const rethrow = (err: unknown): never => {
    throw err;
  };
  let stopped = false;
  return {
    get isLeader() {
      return state.isLeader;
    },
    onChange: (listener) => state.onChange(listener),
    start: async () => {
      if (!stopped) state.set(true, rethrow);
    },
    stop: async () => {
      stopped = true;
      state.set(false, rethrow);
    },
    leaderId: async () => (state.isLeader ? id : undefined),
  };
}
