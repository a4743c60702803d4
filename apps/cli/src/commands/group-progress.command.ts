/**
 * `apogee group progress <group> [--topic T] [--cluster C]`: consumer lag, as RocketMQ's
 * `consumerProgress`. Without --topic, asks every master of the cluster (nameserver cluster info)
 * for the group's progress in every queue it has consumed; with --topic, asks the masters serving
 * the topic (its route) about each of its queues. One row per queue: committed and max offset,
 * lag in messages, messages in flight and how old the oldest unacked message is; then totals.
 * A broadcast group keeps positions per client: one row per client and queue, with a CLIENT column.
 */
import { brokerOutcomeJson } from '../broker-outcomes';
import type { AdminGroupProgressResponse, AdminQueueProgress, BrokerAdminClient } from '@apogee/protocol';
import { validateGroupName, validateTopicName } from '@apogee/routing';
import { checkName, clusterOption, expectPositionals, nameserverOf, stringOption, type ParsedArgs } from '../cli-args';
import { EXIT_FAILURE, EXIT_OK } from '../cli-error';
import { applyOnMasters, brokerTarget, mastersOf, routeMasters, type BrokerOutcome, type ClusterMasters, type MasterBroker } from '../cluster-masters';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatTable } from '../table';

export interface GroupProgressInput {
  readonly nameserver: string;
  readonly group: string;
  readonly topic?: string;
  readonly cluster?: string;
}

export function parseGroupProgress(args: ParsedArgs, env: CommandContext['env'] = {}): GroupProgressInput {
  const [group] = expectPositionals(args, ['group']) as [string];
  checkName((name) => validateGroupName(name, { allowReserved: true }), group);
  const topic = stringOption(args, 'topic');
  if (topic !== undefined) checkName((name) => validateTopicName(name, { allowReserved: true }), topic);
  const cluster = clusterOption(args);
  return {
    nameserver: nameserverOf(args, env),
    group,
    ...(topic === undefined ? {} : { topic }),
    ...(cluster === undefined ? {} : { cluster }),
  };
}

/** One queue's progress with the int64 fields as numbers. */
export interface QueueProgressRow {
  readonly brokerName: string;
  readonly topic: string;
  readonly queueId: number;
  readonly committedOffset: number;
  readonly nextOffset: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  readonly lag: number;
  readonly inflight: number;
  readonly lagSeconds: number;
  readonly consumed: boolean;
  /** The client of a broadcast group this row is about. */
  readonly clientId?: string;
}

function rowOf(brokerName: string, q: AdminQueueProgress): QueueProgressRow {
  return {
    brokerName,
    topic: q.topic ?? '',
    queueId: q.queue_id ?? 0,
    committedOffset: Number(q.committed_offset ?? 0),
    nextOffset: Number(q.next_offset ?? 0),
    minOffset: Number(q.min_offset ?? 0),
    maxOffset: Number(q.max_offset ?? 0),
    lag: Number(q.lag ?? 0),
    inflight: q.inflight ?? 0,
    lagSeconds: q.lag_seconds ?? 0,
    consumed: q.consumed ?? false,
    ...(q.client_id ? { clientId: q.client_id } : {}),
  };
}

export function rowsOf(outcomes: readonly BrokerOutcome<AdminGroupProgressResponse>[]): QueueProgressRow[] {
  return outcomes.flatMap((o) => (o.value?.queues ?? []).map((q) => rowOf(o.brokerName, q)));
}

export function totalsOf(rows: readonly QueueProgressRow[]): { lag: number; inflight: number; maxLagSeconds: number } {
  return {
    lag: rows.reduce((sum, r) => sum + r.lag, 0),
    inflight: rows.reduce((sum, r) => sum + r.inflight, 0),
    maxLagSeconds: rows.reduce((most, r) => Math.max(most, r.lagSeconds), 0),
  };
}

function seconds(value: number): string {
  return value.toFixed(1);
}

async function progressOn(
  admin: BrokerAdminClient,
  master: MasterBroker,
  input: GroupProgressInput,
): Promise<BrokerOutcome<AdminGroupProgressResponse>> {
  const hints = {
    GROUP_NOT_FOUND: `Create it with \`apogee group create ${input.group}\`; \`apogee group progress\` needs a group the brokers know.`,
    TOPIC_NOT_FOUND: `The broker has no topic ${input.topic ?? ''}; \`apogee topic route ${input.topic ?? '<topic>'}\` shows which brokers serve it.`,
  };
  const request = { group: input.group, ...(input.topic === undefined ? {} : { topic: input.topic }) };
  const value = await callServer(brokerTarget(master), () => admin.call('GroupProgress', request), hints);
  return { ...master, result: 'read', value };
}

/** The heading, one row per queue (failed brokers as FAILED), a TOTAL row, then failures and notes. */
export function renderGroupProgress(input: GroupProgressInput, outcomes: readonly BrokerOutcome<AdminGroupProgressResponse>[]): string {
  const rows = rowsOf(outcomes);
  const totals = totalsOf(rows);
  const scope = input.topic === undefined ? '' : ` on topic ${input.topic}`;
  const lines = [`Group ${input.group}${scope}: lag ${totals.lag} message${totals.lag === 1 ? '' : 's'}, ${totals.inflight} in flight`];
  const perClient = rows.some((r) => r.clientId !== undefined);
  const client = (value: string): string[] => (perClient ? [value] : []);
  const cells = (r: QueueProgressRow): string[] => [
    r.brokerName,
    ...client(r.clientId ?? ''),
    r.topic,
    String(r.queueId),
    r.consumed ? String(r.committedOffset) : `(${r.committedOffset})`,
    String(r.maxOffset),
    String(r.lag),
    String(r.inflight),
    seconds(r.lagSeconds),
  ];
  const table = [
    ...outcomes.flatMap((o) =>
      o.value === undefined ? [[o.brokerName, ...client('-'), '-', '-', 'FAILED', '-', '-', '-', '-']] : rowsOf([o]).map(cells),
    ),
    ['TOTAL', ...client(''), '', '', '', '', String(totals.lag), String(totals.inflight), seconds(totals.maxLagSeconds)],
  ];
  const headings = ['broker', ...client('client'), 'topic', 'queue', 'committed', 'max', 'lag', 'in-flight', 'lag-seconds'];
  lines.push(formatTable(headings, table).trimEnd());
  for (const o of outcomes) {
    if (o.error !== undefined) lines.push(`${o.brokerName}: ${o.error.message}${o.error.hint ? `\n  hint: ${o.error.hint}` : ''}`);
  }
  for (const o of outcomes) {
    if (o.value === undefined) continue;
    const consumers = o.value.consumers ?? [];
    const list = consumers.map((c) => `${c.client_id ?? '?'} (${c.client_type ?? '?'})`).join(', ');
    lines.push(`Consumers connected to ${o.brokerName}: ${consumers.length}${list === '' ? '' : ` — ${list}`}`);
  }
  if (rows.length === 0 && outcomes.some((o) => o.value !== undefined)) {
    lines.push(`The group has not consumed anything yet; pass --topic to see where it would start on a topic.`);
  }
  if (rows.some((r) => !r.consumed)) lines.push(`"(n)": the ${perClient ? 'client' : 'group'} has not consumed that queue; it would start at offset n.`);
  if (perClient) lines.push('Broadcast group: each client has its own position; the totals add up every client.');
  return `${lines.join('\n')}\n`;
}

export function groupProgressJson(input: GroupProgressInput, outcomes: readonly BrokerOutcome<AdminGroupProgressResponse>[]): object {
  const totals = totalsOf(rowsOf(outcomes));
  return {
    group: input.group,
    topic: input.topic ?? null,
    ok: outcomes.every((o) => o.result !== 'failed'),
    totals,
    brokers: outcomes.map((o) =>
      brokerOutcomeJson(o, (value) => ({
        queues: rowsOf([o]).map(({ brokerName: _broker, ...queue }) => queue),
        consumers: (value.consumers ?? []).map((c) => ({
          clientId: c.client_id ?? '',
          clientType: c.client_type ?? '',
          lastSeenMs: Number(c.last_seen_ms ?? 0),
        })),
      })),
    ),
  };
}

async function mastersFor(ctx: CommandContext, input: GroupProgressInput): Promise<ClusterMasters> {
  const target = { kind: 'nameserver', address: input.nameserver } as const;
  if (input.topic !== undefined) {
    const topic = input.topic;
    const hints = { NOT_FOUND: `No broker serves topic ${topic}; \`apogee topic list\` shows the topics that have a route.` };
    const route = await withNameServer(ctx, input.nameserver, (ns) => callServer(target, () => ns.queryRoute(topic), hints));
    return routeMasters(route);
  }
  const info = await withNameServer(ctx, input.nameserver, (ns) => callServer(target, () => ns.clusterInfo()));
  return mastersOf(info, input.nameserver, input.cluster);
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseGroupProgress(ctx.args, ctx.env);
  const masters = await mastersFor(ctx, input);
  const outcomes = await applyOnMasters(ctx, masters, (admin, master) => progressOn(admin, master, input));
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  return {
    text: renderGroupProgress(input, outcomes),
    json: groupProgressJson(input, outcomes),
    exitCode: failed === 0 ? EXIT_OK : EXIT_FAILURE,
    ...(failed === 0
      ? {}
      : { warning: `reading the progress of group ${input.group} failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}` }),
  };
}

export const groupProgressCommand: Command = {
  noun: 'group',
  verb: 'progress',
  operands: '<group>',
  summary: "Show a group's consume progress and lag per queue: committed and max offset, in flight, lag in messages and seconds",
  synopsis: '<group> [--topic T] [--cluster C]',
  options: {
    topic: { type: 'string', value: 'T', description: 'only this topic, every queue of it (default: every queue the group consumed)' },
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters are asked, without --topic (default: the only cluster)' },
  },
  examples: ['apogee group progress billing', 'apogee group progress billing --topic orders --json'],
  notes: [
    'LAG = MAX − COMMITTED: messages stored and not yet acked by the group (in flight included).',
    'LAG-SECONDS: how long ago the oldest unacked message was stored; the TOTAL row shows the largest.',
    'A broadcast group has a row per client (CLIENT: its client id) and queue, each client with its own position.',
    'Exit 0 when every broker answered, 1 when any failed (unknown group or topic, unreachable), 2 for a bad command line.',
  ],
  run,
};
