/** `apogee cluster status`: clusters, broker groups and every live replica with its role, address and last heartbeat. */
import type { ClusterInfo } from '@apogee/routing';
import { expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { EXIT_OK } from '../cli-error';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatAge, formatTable } from '../table';

export function parseClusterStatus(args: ParsedArgs, env: CommandContext['env'] = {}): { nameserver: string } {
  expectPositionals(args, []);
  return { nameserver: nameserverOf(args, env) };
}

function groupsOf(info: ClusterInfo, clusterName: string): ClusterInfo['brokers'] {
  return info.brokers.filter((group) => group.clusterName === clusterName);
}

export function renderClusterStatus(info: ClusterInfo, nameserver: string, nowMs: number): string {
  if (info.clusters.length === 0) return `No broker is registered with the nameserver at ${nameserver}.\n`;
  const rows = info.clusters.flatMap(({ clusterName }) =>
    groupsOf(info, clusterName).flatMap((group) =>
      group.replicas.map((r) => [clusterName, group.brokerName, r.brokerId, r.role, r.address, formatAge(r.lastHeartbeatMs, nowMs)]),
    ),
  );
  return formatTable(['cluster', 'broker', 'id', 'role', 'address', 'last heartbeat'], rows);
}

export function clusterStatusJson(info: ClusterInfo, nameserver: string, nowMs: number): object {
  return {
    nameserver,
    clusters: info.clusters.map(({ clusterName }) => ({
      clusterName,
      brokerGroups: groupsOf(info, clusterName).map((group) => ({
        brokerName: group.brokerName,
        replicas: group.replicas.map((r) => ({
          brokerId: r.brokerId,
          role: r.role,
          address: r.address,
          lastHeartbeatMs: r.lastHeartbeatMs,
          lastHeartbeatAgeMs: Math.max(0, nowMs - r.lastHeartbeatMs),
        })),
      })),
    })),
  };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const { nameserver } = parseClusterStatus(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: nameserver } as const;
  const info = await withNameServer(ctx, nameserver, (ns) => callServer(target, () => ns.clusterInfo()));
  const now = ctx.deps.now();
  return { text: renderClusterStatus(info, nameserver, now), json: clusterStatusJson(info, nameserver, now), exitCode: EXIT_OK };
}

export const clusterStatusCommand: Command = {
  noun: 'cluster',
  verb: 'status',
  operands: '',
  summary: 'Show clusters, broker groups and replicas with role, address and last heartbeat',
  synopsis: '',
  options: {},
  examples: ['apogee cluster status', 'apogee cluster status --nameserver 10.0.0.5:9876 --json'],
  notes: ['Replicas silent for longer than the eviction window (120 s by default) are no longer listed.'],
  run,
};
