/**
 * apogee.ha.v1.HaController (proto/apogee/ha/v1/ha.proto) over HaGroups: answers broker heartbeats
 * with assignments while this ha-replicator acts (its election says so), ticks the failover rule
 * every tickMs, and persists each group's epoch and master in the MetaTable `ha-groups` of
 * <dataDir>/meta before any broker is told about a change (a failover, a new group).
 * While not acting it answers `acting = false` (with the acting one's address when known) and
 * forgets its view: on taking over it starts a fresh HaGroups from the persisted state and the
 * brokers' reports, and replaces no master before one master timeout has passed.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  ApogeeError,
  HA_CONTROLLER_SERVICE,
  int64FromWire,
  loadHaControllerService,
  type HaRole,
  type WireBrokerHeartbeat,
  type WireBrokerHeartbeatResponse,
  type WireListGroupsResponse,
} from '@apogee/protocol';
import { unaryCall, type Clock, type GrpcServiceRegistration, type Logger } from '@apogee/runtime';
import type { MetaTable } from '@apogee/storage';
import { HaGroups, type Assignment, type BrokerReport, type HaRoleName, type HaTiming, type PersistedGroup } from './ha-groups';

export const HA_GROUPS_TABLE = 'ha-groups';

export interface HaControllerOptions extends HaTiming {
  readonly table: MetaTable<PersistedGroup>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the failover rule runs. */
  readonly tickMs: number;
  /** host:port of the acting ha-replicator, when known (this one's own address while acting). */
  readonly actingAddress: () => string;
}

export interface HaControllerService {
  readonly registration: GrpcServiceRegistration;
  /** This replicator starts or stops acting (its election changed). */
  setActing(acting: boolean): void;
  /** The current view (tests, metrics); empty while not acting. */
  groups(): HaGroups | undefined;
  close(): void;
}

export function createHaControllerService(options: HaControllerOptions): HaControllerService {
  const { clock, logger } = options;
  let view: HaGroups | undefined;
  let tick: NodeJS.Timeout | undefined;
  let persisting: Promise<void> = Promise.resolve();

  /** Persists the view; the returned promise settles once durable. A failed write stops acting (never act on unrecorded state). */
  const persist = (groups: HaGroups): Promise<void> => {
    const next = persisting.then(() => options.table.setMany(groups.persisted()));
    persisting = next.catch((err: unknown) => {
      logger.error({ err }, 'ha-groups state could not be written; this ha-replicator stops acting');
      setActing(false);
    });
    return next;
  };

  const runTick = (): void => {
    const groups = view;
    if (groups === undefined) return;
    const failovers = groups.tick(clock.now());
    if (failovers.length === 0) return;
    void persist(groups).then(
      () => {
        for (const f of failovers) {
          logger.warn(
            { broker: f.brokerName, epoch: f.epoch, fromReplica: f.from, toReplica: f.to, to: f.toAddress, maxOffset: f.maxOffset },
            'master silent past the timeout; promoting the replica with the highest log end',
          );
        }
      },
      () => undefined, // persist() logged it and stopped acting
    );
  };

  function setActing(acting: boolean): void {
    if (acting === (view !== undefined)) return;
    clearInterval(tick);
    tick = undefined;
    if (!acting) {
      view = undefined;
      logger.info({}, 'stopped acting');
      return;
    }
    view = new HaGroups(options, clock.now(), new Map(options.table.entries()));
    tick = setInterval(runTick, options.tickMs);
    tick.unref();
    logger.info({ groups: options.table.size }, 'acting: following broker groups');
  }

  const heartbeat = async (request: WireBrokerHeartbeat): Promise<WireBrokerHeartbeatResponse> => {
    const groups = view;
    if (groups === undefined) return { acting: false, acting_address: options.actingAddress() };
    const report = reportOf(request);
    const { assignment, changed } = groups.onHeartbeat(report, clock.now());
    if (changed) await persist(groups);
    if (view !== groups) return { acting: false, acting_address: options.actingAddress() };
    return { acting: true, acting_address: options.actingAddress(), assignment: assignmentToWire(assignment) };
  };

  const listGroups = (): Promise<WireListGroupsResponse> => {
    const groups = view;
    if (groups === undefined) return Promise.resolve({ acting: false, acting_address: options.actingAddress(), groups: [] });
    return Promise.resolve({
      acting: true,
      acting_address: options.actingAddress(),
      groups: groups.status(clock.now()).map((g) => ({
        cluster_name: g.clusterName,
        broker_name: g.brokerName,
        epoch: g.epoch,
        master_address: g.masterAddress,
        master_replica_id: g.masterReplicaId ?? -1,
        failovers: g.failovers,
        replicas: g.replicas.map((r) => ({
          replica_id: r.replicaId,
          address: r.address,
          role: r.role,
          epoch: r.epoch,
          max_offset: r.maxOffset,
          lag_bytes: r.lagBytes,
          in_sync: r.inSync,
          silent_ms: r.silentMs,
        })),
      })),
    });
  };

  const implementation: UntypedServiceImplementation = {
    BrokerHeartbeat: unaryCall({ method: 'BrokerHeartbeat', logger, refusalLevel: 'warn' }, heartbeat),
    ListGroups: unaryCall({ method: 'ListGroups', logger, refusalLevel: 'debug' }, listGroups),
  };
  return {
    registration: { name: HA_CONTROLLER_SERVICE, definition: loadHaControllerService().service, implementation },
    setActing,
    groups: () => view,
    close: () => {
      clearInterval(tick);
      tick = undefined;
      view = undefined;
    },
  };
}

const ROLES: ReadonlySet<string> = new Set<HaRoleName>(['MASTER', 'SLAVE', 'STANDBY']);

function reportOf(request: WireBrokerHeartbeat): BrokerReport {
  const role = request.role ?? 'ROLE_UNSPECIFIED';
  return {
    clusterName: request.cluster_name ?? '',
    brokerName: requireText(request.broker_name, 'broker_name'),
    replicaId: request.replica_id ?? 0,
    address: requireText(request.address, 'address'),
    role: ROLES.has(role) ? (role as HaRoleName) : 'STANDBY',
    epoch: int64FromWire(request.epoch),
    epochStartOffset: int64FromWire(request.epoch_start_offset),
    maxOffset: int64FromWire(request.max_offset),
    replicas: (request.replicas ?? []).map((r) => ({ address: r.address ?? '', inSync: r.in_sync === true })),
  };
}

function assignmentToWire(a: Assignment): WireBrokerHeartbeatResponse['assignment'] {
  return {
    role: a.role as HaRole,
    epoch: a.epoch,
    epoch_start_offset: a.epochStartOffset,
    master_address: a.masterAddress,
    route_broker_id: a.routeBrokerId,
    lease_ms: a.leaseMs,
  };
}

function requireText(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw new ApogeeError('BAD_REQUEST', `BrokerHeartbeat without ${field}; set it`);
  return value;
}
