/**
 * The broker's side of apogee.ha.v1.HaController (proto/apogee/ha/v1/ha.proto): every
 * haHeartbeatMs it reports to every configured ha-replicator (role, epoch, log ends, and as
 * master its replicas) and carries out the assignment of the one that acts, through the
 * RoleRunner. A MASTER assignment also renews the lease: until the heartbeat's SENDING time plus
 * lease_ms, so the broker's lease always ends before the ha-replicator's master timeout, counted
 * from when it received the heartbeat.
 *
 * `haReplicators` may name each ha-replicator, or one address in front of them all (a Kubernetes
 * Service): a non-acting one answers with the acting one's address, which the broker then also
 * reports to, at once and in every later round, until another one acts.
 *
 * An assignment of an epoch older than the broker's own is ignored (an ha-replicator that lost its
 * state learns the newer epoch from this very report). One heartbeat round at a time; a round
 * whose calls all fail changes nothing: the lease simply runs out.
 */
import {
  createHaControllerClient,
  int64FromWire,
  type HaControllerClient,
  type WireAssignment,
  type WireBrokerHeartbeat,
  type WireBrokerHeartbeatResponse,
} from '@apogee/protocol';
import { RepeatingRound, type Clock, type Logger } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { ReplicaSet } from '../replication/replica-set';
import type { BrokerRole } from './broker-role';
import type { EpochHistory } from './epoch-history';
import type { RoleRunner } from './role-runner';

export interface HaAgentOptions {
  readonly haReplicators: readonly string[];
  readonly heartbeatMs: number;
  readonly clusterName: string;
  readonly brokerName: string;
  readonly replicaId: number;
  readonly replicationMode: string;
  /** The broker's own address (replication, admin). */
  readonly address: () => string;
  readonly role: BrokerRole;
  readonly epochs: EpochHistory;
  readonly store: Pick<MessageStore, 'maxPhysicalOffset' | 'syncedPhysicalOffset'>;
  readonly replicas: ReplicaSet;
  readonly runner: RoleRunner;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class HaAgent {
  private readonly clients = new Map<string, HaControllerClient>();
  /** The acting ha-replicator's address as one of them named it, when not configured itself. */
  private redirect: string | undefined;
  private readonly logger: Logger;
  private readonly rounds: RepeatingRound;
  private warned = false;

  constructor(private readonly options: HaAgentOptions) {
    for (const address of options.haReplicators) this.clients.set(address, createHaControllerClient(address));
    this.logger = options.logger.child({ component: 'ha' });
    this.rounds = new RepeatingRound(() => this.runRound(), options.heartbeatMs, (err) =>
      this.logger.error({ err }, 'ha heartbeat round failed'),
    );
  }

  start(): void {
    this.rounds.start();
  }

  /** Stops reporting (waits for the round in flight) and closes the channels. */
  async stop(): Promise<void> {
    await this.rounds.stop();
    for (const client of this.clients.values()) client.close();
  }

  /** One report to every ha-replicator, then the acting one's assignment carried out. */
  async runRound(): Promise<void> {
    const sentAtMs = this.options.clock.now();
    const report = this.report();
    let { targets, answers } = await this.ask([...this.options.haReplicators, ...(this.redirect === undefined ? [] : [this.redirect])], report);
    let acting = actingAnswer(answers);
    if (acting === undefined) {
      const named = answers.flatMap((a) => (a.status === 'fulfilled' && a.value.acting_address ? [a.value.acting_address] : []));
      const fresh = named.find((address) => !targets.includes(address));
      if (fresh !== undefined) {
        this.redirect = fresh; // the one acting now, as a non-acting one told us
        ({ targets, answers } = await this.ask([fresh], report));
        acting = actingAnswer(answers);
      }
    }
    if (acting?.assignment === undefined) {
      this.warnOnce(targets, answers);
      await this.options.runner.syncServiceAddress(); // a lease that ran out stops the group address
      return;
    }
    if (this.warned) this.logger.info({}, 'ha-replicator answering again');
    this.warned = false;
    await this.apply(acting.assignment, sentAtMs);
    await this.options.runner.syncServiceAddress();
  }

  private async apply(assignment: WireAssignment, sentAtMs: number): Promise<void> {
    const { role, epochs, runner } = this.options;
    const epoch = int64FromWire(assignment.epoch);
    if (epoch < epochs.lastEpoch) return; // a stale ha-replicator; it adopts our epoch from this report
    const routeBrokerId = assignment.route_broker_id ?? 0;
    switch (assignment.role) {
      case 'MASTER':
        if (!role.isMaster || epoch > epochs.lastEpoch) await runner.becomeMaster(epoch);
        role.extendLease(sentAtMs + int64FromWire(assignment.lease_ms));
        return;
      case 'SLAVE': {
        const master = assignment.master_address ?? '';
        if (master === '') return;
        await runner.becomeSlave(master, routeBrokerId, epoch, assignment.epoch_start_offset === undefined ? -1 : int64FromWire(assignment.epoch_start_offset));
        return;
      }
      default:
        if (role.state.role !== 'STANDBY') await runner.becomeStandby(routeBrokerId);
    }
  }

  private report(): WireBrokerHeartbeat {
    const { role, epochs, store, replicas, runner } = this.options;
    const follower = runner.currentFollower;
    const inSync = new Set(role.isMaster ? replicas.inSyncReplicas() : []);
    return {
      cluster_name: this.options.clusterName,
      broker_name: this.options.brokerName,
      replica_id: this.options.replicaId,
      address: this.options.address(),
      role: role.state.role,
      epoch: epochs.lastEpoch,
      epoch_start_offset: epochs.lastStart,
      max_offset: store.maxPhysicalOffset,
      synced_offset: store.syncedPhysicalOffset,
      replicas: role.isMaster
        ? replicas.list().map((r) => ({ address: r.address, written_offset: r.writtenOffset, in_sync: inSync.has(r.brokerId) }))
        : [],
      replication_mode: this.options.replicationMode,
      master_connected: follower?.isConnected ?? false,
      master_max_offset: follower?.masterMaxOffset ?? 0,
    };
  }

  /** One heartbeat to each of `targets` (channels kept per address). */
  private async ask(
    targets: readonly string[],
    report: WireBrokerHeartbeat,
  ): Promise<{ targets: string[]; answers: Array<PromiseSettledResult<WireBrokerHeartbeatResponse>> }> {
    const unique = [...new Set(targets)];
    const timeoutMs = Math.max(this.options.heartbeatMs, 200);
    const answers = await Promise.allSettled(unique.map((address) => this.clientOf(address).heartbeat(report, timeoutMs)));
    return { targets: unique, answers };
  }

  private clientOf(address: string): HaControllerClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = createHaControllerClient(address);
      this.clients.set(address, client);
    }
    return client;
  }

  private warnOnce(targets: readonly string[], answers: ReadonlyArray<PromiseSettledResult<unknown>>): void {
    if (this.warned) return;
    this.warned = true;
    const errors = answers.map((a, i) => (a.status === 'rejected' ? `${targets[i]}: ${(a.reason as Error).message}` : `${targets[i]}: not acting`));
    this.logger.warn({ errors, leaseHeld: this.options.role.holdsLease }, 'no acting ha-replicator answered; the lease runs out unless one does');
  }

}

/** The answer of the acting ha-replicator among `answers`, if one acted. */
function actingAnswer(answers: ReadonlyArray<PromiseSettledResult<WireBrokerHeartbeatResponse>>): WireBrokerHeartbeatResponse | undefined {
  for (const a of answers) if (a.status === 'fulfilled' && a.value.acting === true) return a.value;
  return undefined;
}
