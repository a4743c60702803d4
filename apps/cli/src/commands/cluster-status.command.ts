/**
 * `apogee cluster status`: clusters, broker groups and every live replica with its role, address
 * and last heartbeat (the nameserver's cluster info), and each replica's replication state: its
 * epoch, commit log end and lag (BrokerAdmin.ReplicationStatus, asked of every replica in
 * parallel with a short deadline; a replica that does not answer shows '-' and fails nothing).
 */
import type { BrokerAdminMethods } from '@apogee/protocol';
import type { ClusterInfo } from '@apogee/routing';
import { expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { EXIT_OK } from '../cli-error';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer, describeFailure } from '../server-error';
import { formatAge, formatBytes, formatTable } from '../table';

export type ReplicationStatusResponse = BrokerAdminMethods['ReplicationStatus'][1];

/** How long each replica gets to answer ReplicationStatus. */
export const REPLICATION_STATUS_DEADLINE_MS = 2_000;

/** What one replica answered to ReplicationStatus, or why it did not. */
export type ReplicaReplication = { readonly status: ReplicationStatusResponse } | { readonly error: string };

/** Replication answers by replicaKey(brokerName, brokerId). */
export type ReplicationStates = ReadonlyMap<string, ReplicaReplication>;

export function replicaKey(brokerName: string, brokerId: number): string {
  return `${brokerName}\u0000${brokerId}`;
}

export function parseClusterStatus(args: ParsedArgs, env: CommandContext['env'] = {}): { nameserver: string } {
  expectPositionals(args, []);
  return { nameserver: nameserverOf(args, env) };
}

function groupsOf(info: ClusterInfo, clusterName: string): ClusterInfo['brokers'] {
  return info.brokers.filter((group) => group.clusterName === clusterName);
}

type BrokerGroup = ClusterInfo['brokers'][number];
type Replica = BrokerGroup['replicas'][number];

/** int64 fields arrive as strings, and zero values not at all. */
const num = (value: number | string | undefined): number => Number(value ?? 0);

/** The replication facts of one replica, joined with what its master says of it, for the table and --json. */
export interface ReplicationRow {
  readonly role: string;
  readonly epoch: number;
  readonly logEnd: number;
  readonly replicationMode: string;
  /** MASTER: replicas connected to it now, and how many of them are in sync. */
  readonly connectedReplicas?: number;
  readonly inSyncReplicas?: number;
  readonly replicas?: readonly object[];
  /** SLAVE: the master it follows, as it says. */
  readonly master?: { readonly address: string; readonly connected: boolean; readonly masterMaxOffset: number; readonly lagBytes: number };
  /**
   * SLAVE: bytes and seconds behind the master: from the master's view of this replica when the
   * master answered and lists it (as the metrics measure it), else bytes from the slave's own view
   * and seconds null.
   */
  readonly lagBytes?: number;
  readonly lagSeconds?: number | null;
}

function statusOf(states: ReplicationStates, brokerName: string, brokerId: number): ReplicationStatusResponse | undefined {
  const state = states.get(replicaKey(brokerName, brokerId));
  return state !== undefined && 'status' in state ? state.status : undefined;
}

/** The entry of `brokerId` in the replica list of the group's master (as the master answered), if any. */
function masterViewOf(group: BrokerGroup, states: ReplicationStates, brokerId: number) {
  for (const r of group.replicas) {
    const status = statusOf(states, group.brokerName, r.brokerId);
    if (status?.role !== 'MASTER') continue;
    const entry = (status.replicas ?? []).find((c) => (c.broker_id ?? 0) === brokerId);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

export function replicationRowOf(group: BrokerGroup, replica: Replica, states: ReplicationStates): ReplicationRow | undefined {
  const status = statusOf(states, group.brokerName, replica.brokerId);
  if (status === undefined) return undefined;
  const base = {
    role: status.role ?? 'REPLICATION_ROLE_UNSPECIFIED',
    epoch: num(status.epoch),
    logEnd: num(status.max_offset),
    replicationMode: status.replication_mode ?? 'REPLICATION_MODE_UNSPECIFIED',
  };
  if (status.role === 'MASTER') {
    const replicas = (status.replicas ?? []).map((c) => ({
      brokerId: c.broker_id ?? 0,
      address: c.address ?? '',
      writtenOffset: num(c.written_offset),
      syncedOffset: num(c.synced_offset),
      lagBytes: num(c.lag_bytes),
      lagSeconds: c.lag_seconds ?? 0,
      inSync: c.in_sync === true,
      lastReportAgeMs: num(c.last_report_age_ms),
    }));
    return { ...base, connectedReplicas: replicas.length, inSyncReplicas: replicas.filter((c) => c.inSync).length, replicas };
  }
  if (status.role === 'SLAVE') {
    const m = status.master ?? {};
    const master = { address: m.address ?? '', connected: m.connected === true, masterMaxOffset: num(m.master_max_offset), lagBytes: num(m.lag_bytes) };
    const seen = masterViewOf(group, states, replica.brokerId);
    return seen === undefined
      ? { ...base, master, lagBytes: master.lagBytes, lagSeconds: null }
      : { ...base, master, lagBytes: num(seen.lag_bytes), lagSeconds: seen.lag_seconds ?? 0 };
  }
  return base;
}

/** The LAG column: 'in-sync 1/1' for a master, '1.2 MiB / 0.4 s' or '0 B' for a slave, '-' when unknown. */
export function formatLag(row: ReplicationRow | undefined): string {
  if (row === undefined) return '-';
  if (row.role === 'MASTER') return `in-sync ${row.inSyncReplicas ?? 0}/${row.connectedReplicas ?? 0}`;
  if (row.role !== 'SLAVE' || row.lagBytes === undefined) return '-';
  if (row.master?.connected === false && row.lagSeconds === null) return `${formatBytes(row.lagBytes)} (not connected)`;
  if (row.lagBytes === 0) return '0 B';
  return row.lagSeconds === null || row.lagSeconds === undefined
    ? formatBytes(row.lagBytes)
    : `${formatBytes(row.lagBytes)} / ${row.lagSeconds.toFixed(1)} s`;
}

export function renderClusterStatus(info: ClusterInfo, nameserver: string, nowMs: number, states: ReplicationStates = new Map()): string {
  if (info.clusters.length === 0) return `No broker is registered with the nameserver at ${nameserver}.\n`;
  const rows = info.clusters.flatMap(({ clusterName }) =>
    groupsOf(info, clusterName).flatMap((group) =>
      group.replicas.map((r) => {
        const replication = replicationRowOf(group, r, states);
        return [
          clusterName,
          group.brokerName,
          r.brokerId,
          r.role,
          r.address,
          formatAge(r.lastHeartbeatMs, nowMs),
          replication === undefined ? '-' : replication.epoch,
          replication === undefined ? '-' : replication.logEnd,
          formatLag(replication),
        ];
      }),
    ),
  );
  return formatTable(['cluster', 'broker', 'id', 'role', 'address', 'last heartbeat', 'epoch', 'log end', 'lag'], rows);
}

export function clusterStatusJson(info: ClusterInfo, nameserver: string, nowMs: number, states: ReplicationStates = new Map()): object {
  return {
    nameserver,
    clusters: info.clusters.map(({ clusterName }) => ({
      clusterName,
      brokerGroups: groupsOf(info, clusterName).map((group) => ({
        brokerName: group.brokerName,
        replicas: group.replicas.map((r) => {
          const state = states.get(replicaKey(group.brokerName, r.brokerId));
          return {
            brokerId: r.brokerId,
            role: r.role,
            address: r.address,
            lastHeartbeatMs: r.lastHeartbeatMs,
            lastHeartbeatAgeMs: Math.max(0, nowMs - r.lastHeartbeatMs),
            replication: replicationRowOf(group, r, states) ?? null,
            ...(state !== undefined && 'error' in state ? { replicationError: state.error } : {}),
          };
        }),
      })),
    })),
  };
}

/** ReplicationStatus of every listed replica, in parallel; a failure is recorded, never thrown. */
export async function replicationStates(ctx: CommandContext, info: ClusterInfo): Promise<ReplicationStates> {
  const asks = info.brokers.flatMap((group) =>
    group.replicas.map(async (r): Promise<[string, ReplicaReplication]> => {
      const key = replicaKey(group.brokerName, r.brokerId);
      const target = { kind: 'broker', address: r.address, name: group.brokerName } as const;
      try {
        const admin = ctx.deps.brokerAdminClient(r.address);
        try {
          return [key, { status: await admin.call('ReplicationStatus', {}, { timeoutMs: REPLICATION_STATUS_DEADLINE_MS }) }];
        } finally {
          admin.close();
        }
      } catch (err) {
        return [key, { error: describeFailure(err, target).message }];
      }
    }),
  );
  return new Map(await Promise.all(asks));
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const { nameserver } = parseClusterStatus(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: nameserver } as const;
  const info = await withNameServer(ctx, nameserver, (ns) => callServer(target, () => ns.clusterInfo()));
  const states = await replicationStates(ctx, info);
  const now = ctx.deps.now();
  return {
    text: renderClusterStatus(info, nameserver, now, states),
    json: clusterStatusJson(info, nameserver, now, states),
    exitCode: EXIT_OK,
  };
}

export const clusterStatusCommand: Command = {
  noun: 'cluster',
  verb: 'status',
  operands: '',
  summary: 'Show clusters, broker groups and replicas with role, address, last heartbeat and replication lag',
  synopsis: '',
  options: {},
  examples: ['apogee cluster status', 'apogee cluster status --nameserver 10.0.0.5:9876 --json'],
  notes: [
    'Replicas silent for longer than the eviction window (120 s by default) are no longer listed.',
    'EPOCH, LOG END, LAG: each replica is asked for its replication state (2 s deadline); one that does not answer shows -.',
    'EPOCH is the broker group epoch the replica knows; LOG END where its commit log ends (bytes).',
    'LAG of a master: its in-sync replicas / replicas connected now; of a slave: how far it is behind its',
    'master, bytes and seconds (0 B when caught up; "(not connected)" when its stream to the master is down).',
    'For example:',
    '  CLUSTER         BROKER    ID  ROLE    ADDRESS          LAST HEARTBEAT  EPOCH  LOG END  LAG',
    '  DefaultCluster  broker-a  0   MASTER  127.0.0.1:10911  2s ago          0      1048576  in-sync 1/1',
    '  DefaultCluster  broker-a  1   SLAVE   127.0.0.1:10921  4s ago          0      1048576  0 B',
    '  DefaultCluster  broker-b  0   MASTER  127.0.0.1:10931  1s ago          3      5242880  in-sync 0/1',
    '  DefaultCluster  broker-b  1   SLAVE   127.0.0.1:10941  3s ago          3      3984588  1.2 MiB / 0.4 s',
  ],
  run,
};
