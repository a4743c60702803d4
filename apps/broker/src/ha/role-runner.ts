/**
 * Moves the broker between roles (ha/broker-role.ts), one change at a time:
 *
 * - becomeMaster(epoch): stop following; record the epoch as starting at this broker's log end
 *   (durable before any write of the epoch); take writes (under an ha-replicator once the lease
 *   comes); fire timers and check transactions; serve replicas.
 * - becomeSlave(master, epoch): refuse writes at once; stop firing timers and checking
 *   transactions (the master does); follow the master's log, truncating a tail the master never
 *   had when it says so; copy the master's topics, groups and consumer positions (metadata-sync.ts).
 * - becomeStandby(): refuse writes, follow nobody.
 *
 * The broker group's service address (config serviceAddress) is listened on exactly while the
 * broker is a master that may acknowledge writes (syncServiceAddress, called on every change and
 * every ha heartbeat), so clients of the group reach whoever is master now. Registration with
 * the nameservers follows every change (re-registering under the new id and address).
 */
import type { Logger, RunningService } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { MetadataFollower } from '../replication/metadata-sync';
import type { ReplicaFollower } from '../replication/replica-follower';
import type { TimerStore } from '../timer/timer-store';
import type { TransactionChecker, TransactionStore } from '../transaction/transaction-store';
import type { BrokerRole } from './broker-role';
import type { EpochHistory } from './epoch-history';

export interface RoleRunnerDeps {
  readonly role: BrokerRole;
  readonly epochs: EpochHistory;
  readonly store: Pick<MessageStore, 'maxPhysicalOffset' | 'truncateTail'>;
  readonly timer: Pick<TimerStore, 'start' | 'pause' | 'afterTruncate'>;
  readonly transactions: Pick<TransactionStore, 'start' | 'pause'>;
  readonly checkTransaction: TransactionChecker;
  /** A follower of `masterAddress` replicating as `routeBrokerId` (not started). */
  readonly follower: (masterAddress: string, routeBrokerId: number) => ReplicaFollower;
  /** A follower of the master's topics, groups and consumer positions (not started). */
  readonly metadataFollower: (masterAddress: string) => MetadataFollower;
  readonly service: Pick<RunningService, 'listenAlso' | 'stopListening' | 'health'>;
  /** config.serviceAddress; '' for none. */
  readonly serviceAddress: string;
  /** The role changed: register again under the new identity. */
  readonly reregister: () => void;
  readonly logger: Logger;
}

/** Health service name that answers SERVING only on the master holding its lease (Kubernetes readiness of the group's Service). */
export const MASTER_HEALTH_NAME = 'apogee.broker.Master';

export class RoleRunner {
  private follower: ReplicaFollower | undefined;
  private metadata: MetadataFollower | undefined;
  private followerTarget = '';
  private serving = false;
  private binding: Promise<void> | undefined;
  private warnedBind = false;
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RoleRunnerDeps) {
    deps.service.health.setStatus(MASTER_HEALTH_NAME, 'NOT_SERVING');
  }

  /** The running follower (slaves), for lag metrics and ha reports. */
  get currentFollower(): ReplicaFollower | undefined {
    return this.follower;
  }

  becomeMaster(epoch: number): Promise<void> {
    return this.serially(async () => {
      const { role, epochs, store } = this.deps;
      await this.stopFollowing();
      if (epoch > epochs.lastEpoch) await epochs.record(epoch, store.maxPhysicalOffset);
      const was = role.state.role;
      role.set({ role: 'MASTER', routeBrokerId: 0 });
      this.deps.timer.start();
      this.deps.transactions.start(this.deps.checkTransaction);
      if (was !== 'MASTER') {
        this.deps.logger.info({ epoch, epochStartOffset: epochs.lastStart, from: was }, 'now master of the broker group');
        this.deps.reregister();
      }
    });
  }

  becomeSlave(masterAddress: string, routeBrokerId: number, epoch: number, epochStartOffset: number): Promise<void> {
    return this.serially(async () => {
      const { role, epochs } = this.deps;
      const was = role.state;
      role.set({ role: 'SLAVE', masterAddress, routeBrokerId });
      await this.leaveMastership();
      if (epoch > epochs.lastEpoch && epochStartOffset >= 0) await epochs.record(epoch, epochStartOffset);
      if (this.followerTarget !== masterAddress || this.follower === undefined) {
        await this.stopFollowing();
        this.follower = this.deps.follower(masterAddress, routeBrokerId);
        this.metadata = this.deps.metadataFollower(masterAddress);
        this.followerTarget = masterAddress;
        this.follower.start();
        this.metadata.start();
      }
      if (was.role !== 'SLAVE' || was.masterAddress !== masterAddress || was.routeBrokerId !== routeBrokerId) {
        this.deps.logger.info({ master: masterAddress, routeBrokerId, epoch, from: was.role }, 'now slave of the broker group');
        this.deps.reregister();
      }
    });
  }

  becomeStandby(routeBrokerId: number): Promise<void> {
    return this.serially(async () => {
      const was = this.deps.role.state.role;
      this.deps.role.set({ role: 'STANDBY', routeBrokerId });
      await this.leaveMastership();
      await this.stopFollowing();
      if (was !== 'STANDBY') this.deps.logger.warn({ from: was }, 'standby: the broker group has no master');
    });
  }

  /** Listens on the service address while a master holding its lease, and only then. */
  syncServiceAddress(): Promise<void> {
    const want = this.deps.role.holdsLease;
    this.deps.service.health.setStatus(MASTER_HEALTH_NAME, want ? 'SERVING' : 'NOT_SERVING');
    const address = this.deps.serviceAddress;
    if (address === '' || want === this.serving || this.binding !== undefined) return this.binding ?? Promise.resolve();
    if (!want) {
      this.deps.service.stopListening(address);
      this.serving = false;
      this.deps.logger.info({ serviceAddress: address }, 'stopped serving the group address');
      return Promise.resolve();
    }
    this.binding = this.deps.service
      .listenAlso(address)
      .then(
        () => {
          this.serving = true;
          this.warnedBind = false;
          this.deps.logger.info({ serviceAddress: address }, 'serving the group address');
        },
        (err: unknown) => {
          // The old master's listener may linger for a moment; the next heartbeat tries again.
          if (!this.warnedBind) this.deps.logger.warn({ serviceAddress: address, error: (err as Error).message }, 'cannot serve the group address yet');
          this.warnedBind = true;
        },
      )
      .finally(() => (this.binding = undefined));
    return this.binding;
  }

  /** Cuts the log back to `to` for the follower, and the epochs that started past it. */
  async truncate(to: number): Promise<void> {
    const result = await this.deps.store.truncateTail(to);
    await this.deps.epochs.truncated(to);
    await this.deps.timer.afterTruncate();
    this.deps.logger.warn({ ...result }, 'commit log truncated to the master\'s history');
  }

  /** Stops following and listening; waits for the step in progress. */
  async stop(): Promise<void> {
    await this.serially(() => this.stopFollowing());
    if (this.serving) this.deps.service.stopListening(this.deps.serviceAddress);
    this.serving = false;
  }

  private async leaveMastership(): Promise<void> {
    await this.syncServiceAddress();
    await this.deps.timer.pause();
    await this.deps.transactions.pause();
  }

  private async stopFollowing(): Promise<void> {
    const { follower, metadata } = this;
    this.follower = undefined;
    this.metadata = undefined;
    this.followerTarget = '';
    await Promise.all([follower?.stop(), metadata?.stop()]);
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.serial.then(step);
    this.serial = run.catch(() => undefined);
    return run;
  }
}
