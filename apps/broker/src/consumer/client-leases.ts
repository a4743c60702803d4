/**
 * ClientLeases: the deliveries each client holds from auto_renew pops (push consumers). Those
 * pops use a long invisible time because the broker does not renew them (doc §5.3), so when such
 * a client leaves (NotifyClientTermination) its deliveries are handed back — made visible again
 * soon — instead of staying hidden for the rest of that time. In memory only: after a broker
 * restart the deliveries come back when their invisible time ends, as they would without this.
 *
 * A delivery is forgotten when acked, nacked or dead-lettered by its handle; a client's expired
 * deliveries are pruned as it takes new ones, so memory follows what clients hold, not history.
 */
export interface Lease {
  /** The POP state's group (a broadcast group's per-client key included). */
  readonly group: string;
  readonly topic: string;
  readonly receiptHandle: string;
  readonly invisibleUntilMs: number;
}

/** Prune a client's expired leases every this many new ones. */
const PRUNE_EVERY = 256;

export class ClientLeases {
  private readonly byClient = new Map<string, Map<string, Lease>>();
  private readonly clientOf = new Map<string, string>();
  private holds = 0;

  hold(clientId: string, lease: Lease, nowMs: number): void {
    let leases = this.byClient.get(clientId);
    if (leases === undefined) this.byClient.set(clientId, (leases = new Map()));
    leases.set(lease.receiptHandle, lease);
    this.clientOf.set(lease.receiptHandle, clientId);
    if (++this.holds % PRUNE_EVERY === 0) this.prune(nowMs);
  }

  /** The delivery was acked, nacked or dead-lettered (whoever did it). */
  forget(receiptHandle: string): void {
    const clientId = this.clientOf.get(receiptHandle);
    if (clientId === undefined) return;
    this.clientOf.delete(receiptHandle);
    const leases = this.byClient.get(clientId);
    if (leases?.delete(receiptHandle) && leases.size === 0) this.byClient.delete(clientId);
  }

  /** The client's leases that are still running, removed from here. */
  take(clientId: string, nowMs: number): Lease[] {
    const leases = this.byClient.get(clientId);
    this.byClient.delete(clientId);
    if (leases === undefined) return [];
    for (const handle of leases.keys()) this.clientOf.delete(handle);
    return [...leases.values()].filter((l) => l.invisibleUntilMs > nowMs);
  }

  get size(): number {
    let n = 0;
    for (const leases of this.byClient.values()) n += leases.size;
    return n;
  }

  private prune(nowMs: number): void {
    for (const [clientId, leases] of this.byClient) {
      for (const [handle, lease] of leases) {
        if (lease.invisibleUntilMs > nowMs) continue;
        leases.delete(handle);
        this.clientOf.delete(handle);
      }
      if (leases.size === 0) this.byClient.delete(clientId);
    }
  }
}
