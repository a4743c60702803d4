/**
 * The acting ha-replicator's view of every broker group, and its decisions: who is master, at
 * which epoch, and when to fail over (proto/apogee/ha/v1/ha.proto; docs/decisions/0007-failover.md).
 * Pure: time comes in as arguments, so every rule is unit-tested without timers.
 *
 * - A group is known from its brokers' heartbeats. The state this replicator persisted (epoch and
 *   master per group) or, lacking it, the highest epoch a broker reports, with the broker that
 *   reports itself MASTER at that epoch, says who is master.
 * - A brand-new group (epoch 0, no master) makes its replica 0, the configured master, master
 *   of epoch 1 as soon as it reports.
 * - The master is told MASTER with a lease; everyone else SLAVE of the master (or STANDBY while
 *   the group has none), with a route id for the nameservers.
 * - tick(): a master silent for masterTimeoutMs (counted from the later of its last heartbeat
 *   and the moment this replicator started acting, so a lease granted by a previous one has
 *   ended) is replaced by the live replica with the highest log end: it holds every write an
 *   in-sync replica confirmed, since all replicas' logs are prefixes of the master's. The epoch
 *   goes up by one.
 */
export type HaRoleName = 'MASTER' | 'SLAVE' | 'STANDBY';

export interface BrokerReport {
  readonly clusterName: string;
  readonly brokerName: string;
  readonly replicaId: number;
  readonly address: string;
  readonly role: HaRoleName;
  readonly epoch: number;
  readonly epochStartOffset: number;
  readonly maxOffset: number;
  /** A master's connected replicas, by address, and whether it counts each in sync. */
  readonly replicas: ReadonlyArray<{ readonly address: string; readonly inSync: boolean }>;
}

export interface Assignment {
  readonly role: HaRoleName;
  readonly epoch: number;
  /** -1 while the master has not reported where its epoch starts. */
  readonly epochStartOffset: number;
  readonly masterAddress: string;
  readonly routeBrokerId: number;
  readonly leaseMs: number;
}

export interface HaTiming {
  readonly masterTimeoutMs: number;
  readonly leaseMs: number;
}

/** What a group's state persists as: enough to keep its epoch and master across a restart. */
export interface PersistedGroup {
  readonly clusterName: string;
  readonly epoch: number;
  readonly masterReplicaId: number | null;
}

interface Member {
  report: BrokerReport;
  lastSeenMs: number;
}

interface Group {
  clusterName: string;
  epoch: number;
  epochStartOffset: number;
  masterId: number | undefined;
  masterSeenMs: number;
  members: Map<number, Member>;
  failovers: number;
}

export interface Failover {
  readonly brokerName: string;
  readonly epoch: number;
  readonly from: number | undefined;
  readonly to: number;
  readonly toAddress: string;
  readonly maxOffset: number;
}

export interface GroupStatus {
  readonly clusterName: string;
  readonly brokerName: string;
  readonly epoch: number;
  readonly masterReplicaId: number | undefined;
  readonly masterAddress: string;
  readonly failovers: number;
  readonly replicas: ReadonlyArray<{
    readonly replicaId: number;
    readonly address: string;
    readonly role: HaRoleName;
    readonly epoch: number;
    readonly maxOffset: number;
    readonly lagBytes: number;
    readonly inSync: boolean;
    readonly silentMs: number;
  }>;
}

export class HaGroups {
  private readonly groups = new Map<string, Group>();

  /**
   * @param actingSinceMs when this replicator started acting: no master is replaced before
   *   actingSinceMs + masterTimeoutMs.
   */
  constructor(
    private readonly timing: HaTiming,
    private readonly actingSinceMs: number,
    persisted: ReadonlyMap<string, PersistedGroup> = new Map(),
  ) {
    for (const [brokerName, state] of persisted) {
      this.groups.set(brokerName, {
        clusterName: state.clusterName,
        epoch: state.epoch,
        epochStartOffset: -1,
        masterId: state.masterReplicaId ?? undefined,
        masterSeenMs: actingSinceMs,
        members: new Map(),
        failovers: 0,
      });
    }
  }

  /** Records the report; returns the broker's assignment and whether the persisted state changed. */
  onHeartbeat(report: BrokerReport, nowMs: number): { assignment: Assignment; changed: boolean } {
    let changed = false;
    let group = this.groups.get(report.brokerName);
    if (group === undefined) {
      group = {
        clusterName: report.clusterName,
        epoch: report.epoch,
        epochStartOffset: -1,
        masterId: undefined,
        masterSeenMs: Math.max(nowMs, this.actingSinceMs),
        members: new Map(),
        failovers: 0,
      };
      this.groups.set(report.brokerName, group);
      changed = true;
    }
    group.members.set(report.replicaId, { report, lastSeenMs: nowMs });
    if (report.epoch > group.epoch) {
      // A broker knows a newer epoch than this replicator (its state was lost): adopt it.
      group.epoch = report.epoch;
      group.masterId = report.role === 'MASTER' ? report.replicaId : undefined;
      group.epochStartOffset = -1;
      changed = true;
    }
    if (group.masterId === undefined) {
      if (report.role === 'MASTER' && report.epoch === group.epoch && group.epoch > 0) {
        group.masterId = report.replicaId;
        changed = true;
      } else if (group.epoch === 0 && report.replicaId === 0) {
        group.epoch = 1; // a new group: its configured master takes epoch 1
        group.masterId = 0;
        changed = true;
      }
    }
    if (report.replicaId === group.masterId) {
      group.masterSeenMs = Math.max(group.masterSeenMs, nowMs);
      if (report.role === 'MASTER' && report.epoch === group.epoch) group.epochStartOffset = report.epochStartOffset;
    }
    return { assignment: this.assignmentOf(group, report.replicaId), changed };
  }

  /** Replaces every master silent for too long; returns what it did (persist, then log). */
  tick(nowMs: number): Failover[] {
    const failovers: Failover[] = [];
    for (const [brokerName, group] of this.groups) {
      if (nowMs - group.masterSeenMs <= this.timing.masterTimeoutMs) continue;
      if (group.masterId === undefined && group.epoch === 0) continue; // waiting for replica 0 to appear
      const candidate = this.candidate(group, nowMs);
      if (candidate === undefined) continue;
      const from = group.masterId;
      group.epoch += 1;
      group.masterId = candidate.report.replicaId;
      group.epochStartOffset = -1;
      group.masterSeenMs = nowMs; // the candidate gets one timeout to take over
      group.failovers += 1;
      failovers.push({
        brokerName,
        epoch: group.epoch,
        from,
        to: candidate.report.replicaId,
        toAddress: candidate.report.address,
        maxOffset: candidate.report.maxOffset,
      });
    }
    return failovers;
  }

  persisted(): Map<string, PersistedGroup> {
    const out = new Map<string, PersistedGroup>();
    for (const [name, group] of this.groups) {
      out.set(name, { clusterName: group.clusterName, epoch: group.epoch, masterReplicaId: group.masterId ?? null });
    }
    return out;
  }

  status(nowMs: number): GroupStatus[] {
    return [...this.groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([brokerName, group]) => {
        const master = group.masterId === undefined ? undefined : group.members.get(group.masterId);
        const masterEnd = master?.report.maxOffset ?? 0;
        const inSync = new Set((master?.report.replicas ?? []).filter((r) => r.inSync).map((r) => r.address));
        return {
          clusterName: group.clusterName,
          brokerName,
          epoch: group.epoch,
          masterReplicaId: group.masterId,
          masterAddress: master?.report.address ?? '',
          failovers: group.failovers,
          replicas: [...group.members.values()]
            .sort((a, b) => a.report.replicaId - b.report.replicaId)
            .map(({ report, lastSeenMs }) => ({
              replicaId: report.replicaId,
              address: report.address,
              role: report.role,
              epoch: report.epoch,
              maxOffset: report.maxOffset,
              lagBytes: report.replicaId === group.masterId ? 0 : Math.max(0, masterEnd - report.maxOffset),
              inSync: report.replicaId === group.masterId || inSync.has(report.address),
              silentMs: nowMs - lastSeenMs,
            })),
        };
      });
  }

  private candidate(group: Group, nowMs: number): Member | undefined {
    let best: Member | undefined;
    for (const member of group.members.values()) {
      if (member.report.replicaId === group.masterId) continue;
      if (nowMs - member.lastSeenMs > this.timing.masterTimeoutMs) continue;
      const better =
        best === undefined ||
        member.report.maxOffset > best.report.maxOffset ||
        (member.report.maxOffset === best.report.maxOffset && member.report.replicaId < best.report.replicaId);
      if (better) best = member;
    }
    return best;
  }

  private assignmentOf(group: Group, replicaId: number): Assignment {
    const master = group.masterId === undefined ? undefined : group.members.get(group.masterId);
    const base = { epoch: group.epoch, epochStartOffset: group.epochStartOffset };
    if (replicaId === group.masterId) {
      return { ...base, role: 'MASTER', masterAddress: '', routeBrokerId: 0, leaseMs: this.timing.leaseMs };
    }
    const routeBrokerId = slaveRouteId(group, replicaId);
    if (master === undefined) return { ...base, role: 'STANDBY', masterAddress: '', routeBrokerId, leaseMs: 0 };
    return { ...base, role: 'SLAVE', masterAddress: master.report.address, routeBrokerId, leaseMs: 0 };
  }
}

/**
 * A slave's id in the nameservers' routes: its own replica id, or, for replica 0 (a former
 * master), the lowest id from 1 that no other slave of the group uses as its own.
 */
function slaveRouteId(group: Group, replicaId: number): number {
  if (replicaId > 0) return replicaId;
  let id = 1;
  while (id !== group.masterId && group.members.has(id)) id += 1;
  return id;
}
