/**
 * Master and slave broker processes of one broker group ('ha') for the replication specs: port 0,
 * data under one temp dir, no nameservers, equal segment sizes (a byte-identical log needs them).
 */
import path from 'node:path';
import { createBrokerAdminClient } from '@apogee/protocol';
import { httpGet, spawnService, type SpawnedService } from '@apogee/testing';

export const GROUP = 'ha';
export const SEGMENT_BYTES = 8 * 1024 * 1024;

/** The master (broker id 0) with data in <dir>/master; `port` 0 binds a free one (`nameservers`: none by default). */
export function startMaster(dir: string, port = 0, moreArgs: readonly string[] = [], nameservers = ''): Promise<SpawnedService> {
  return spawnService({
    app: 'broker',
    args: [
      ...['--grpc-port', String(port), '--nameservers', nameservers, '--broker-name', GROUP, '--data-dir', path.join(dir, 'master')],
      ...['--segment-bytes', String(SEGMENT_BYTES), ...moreArgs],
    ],
  });
}

/** Slave 1 of the master listening on `masterPort`, with data in <dir>/slave (`nameservers`: none by default). */
export function startSlave(dir: string, masterPort: number, nameservers = ''): Promise<SpawnedService> {
  return spawnService({
    app: 'broker',
    args: [
      ...['--nameservers', nameservers, '--broker-name', GROUP, '--broker-id', '1', '--master-address', `127.0.0.1:${masterPort}`],
      ...['--data-dir', path.join(dir, 'slave'), '--segment-bytes', String(SEGMENT_BYTES)],
    ],
  });
}

/** Creates a NORMAL topic of 4 queues on one broker (topics are not replicated yet). */
export async function createTopicOn(address: string, topic: string): Promise<void> {
  const admin = createBrokerAdminClient(address);
  try {
    await admin.call('CreateTopic', { name: topic, read_queue_count: 4, write_queue_count: 4, message_type: 'NORMAL' });
  } finally {
    admin.close();
  }
}

/** A metric's value from the process's /metrics (the first series), -1 when absent. */
export async function metricOf(service: SpawnedService, name: string): Promise<number> {
  const body = (await httpGet(service.metricsAddress, '/metrics')).body;
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(body);
  return match === null ? -1 : Number(match[1]);
}

/** Where the process's commit log ends. */
export function logEndOf(service: SpawnedService): Promise<number> {
  return metricOf(service, 'apogee_broker_commit_log_max_offset_bytes');
}

/** The sum of `group`'s committed offsets over the queues of `topic` on the broker at `address` (GroupProgress). */
export async function committedOffsets(address: string, group: string, topic: string): Promise<number> {
  const admin = createBrokerAdminClient(address);
  try {
    const progress = await admin.call('GroupProgress', { group, topic });
    return (progress.queues ?? []).reduce((sum, q) => sum + Number(q.committed_offset ?? 0), 0);
  } finally {
    admin.close();
  }
}
