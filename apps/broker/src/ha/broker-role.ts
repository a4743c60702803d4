/**
 * What the broker is right now, read by every path that writes or serves replicas:
 *
 * - MASTER: takes writes and serves replicas. Under an ha-replicator only while its lease
 *   lasts (fencing: a master cut off from the acting ha-replicator stops acknowledging writes
 *   when the lease ends, before anyone else can be promoted).
 * - SLAVE: follows `masterAddress`; writes are refused with NOT_MASTER.
 * - STANDBY: an ha-controlled broker before its first assignment (or while its group has no
 *   master): takes no writes, follows nobody.
 *
 * Without an ha-replicator the role is fixed by the config (broker id 0: master, else slave of
 * masterAddress) and the lease never ends. Changes come from the RoleRunner (role-runner.ts).
 */
import { ApogeeError } from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import { notMasterError } from '../replication/slave-writes';

export type RoleName = 'MASTER' | 'SLAVE' | 'STANDBY';

export interface RoleState {
  readonly role: RoleName;
  /** SLAVE: the master's own address. */
  readonly masterAddress?: string;
  /** The id the broker registers with the nameservers under: 0 for the master. */
  readonly routeBrokerId: number;
}

export class BrokerRole {
  private current: RoleState;
  private leaseUntilMs: number;

  constructor(
    private readonly options: { readonly brokerName: string; readonly haControlled: boolean; readonly clock: Clock },
    initial: RoleState,
  ) {
    this.current = initial;
    this.leaseUntilMs = options.haControlled ? 0 : Infinity;
  }

  get state(): RoleState {
    return this.current;
  }

  get isMaster(): boolean {
    return this.current.role === 'MASTER';
  }

  /** A master that may acknowledge writes now. */
  get holdsLease(): boolean {
    return this.isMaster && this.options.clock.now() < this.leaseUntilMs;
  }

  /** Sets the role. A new role starts without a lease. */
  set(next: RoleState): void {
    const prev = this.current;
    this.current = next;
    if (this.options.haControlled && next.role !== prev.role) this.leaseUntilMs = 0;
  }

  /** Extends the master's lease to `untilMs` (never shortens it). */
  extendLease(untilMs: number): void {
    if (this.isMaster && this.options.haControlled) this.leaseUntilMs = Math.max(this.leaseUntilMs, untilMs);
  }

  /** Why a write (`what`: the RPC) must be refused now, or undefined when it may go ahead and be acknowledged. */
  writeRefusal(what: string): ApogeeError | undefined {
    const { role, masterAddress } = this.current;
    if (role === 'SLAVE') return notMasterError(what, this.options.brokerName, masterAddress ?? '(unknown)');
    if (role === 'STANDBY') {
      return new ApogeeError(
        'NOT_MASTER',
        `${what} refused: this broker of group ${JSON.stringify(this.options.brokerName)} has no role yet ` +
          '(waiting for the ha-replicator); send to the master of its group',
      );
    }
    if (!this.holdsLease) {
      return new ApogeeError(
        'MASTER_LEASE_EXPIRED',
        `${what} refused: this master of group ${JSON.stringify(this.options.brokerName)} holds no lease from the ha-replicator ` +
          '(cut off, or just promoted); send again',
      );
    }
    return undefined;
  }
}
