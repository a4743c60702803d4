/**
 * `apogee group reset-offset <group> --topic T --to <ISO time|earliest|latest>`: backtracking, as
 * RocketMQ's `resetOffsetByTime`. Finds the brokers serving the topic through its route and calls
 * BrokerAdmin.ResetOffset on the master of each; every broker moves the group in each of its
 * queues of the topic and reports the old and the new offset. For a broadcast group, each client
 * with a position on the topic moves (a CLIENT column), and so does the start of clients that
 * appear later (the "(new clients)" rows).
 */
import { brokerOutcomeJson } from '../broker-outcomes';
import type { AdminQueueOffsetReset, AdminResetOffsetRequest, AdminResetOffsetResponse, BrokerAdminClient } from '@apogee/protocol';
import { validateGroupName, validateTopicName } from '@apogee/routing';
import { checkName, expectPositionals, nameserverOf, stringOption, type ParsedArgs } from '../cli-args';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../cli-error';
import { applyOnMasters, brokerTarget, routeMasters, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatTable } from '../table';

/** Where to reset to: an edge of each queue, or the first message stored at or after a time. */
export type ResetTo = { readonly kind: 'earliest' | 'latest' } | { readonly kind: 'time'; readonly timestampMs: number };

export interface GroupResetOffsetInput {
  readonly nameserver: string;
  readonly group: string;
  readonly topic: string;
  readonly to: ResetTo;
}

/** A date (UTC midnight) or a date and time with a zone: Z or ±hh:mm. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const TO_ALLOWED = 'earliest, latest, or an ISO 8601 time with a zone such as 2026-01-31T08:00:00Z';

export function parseGroupResetOffset(args: ParsedArgs, env: CommandContext['env'] = {}): GroupResetOffsetInput {
  const [group] = expectPositionals(args, ['group']) as [string];
  checkName(validateGroupName, group);
  const topic = stringOption(args, 'topic');
  if (topic === undefined) throw new UsageError('missing --topic');
  checkName(validateTopicName, topic);
  const to = stringOption(args, 'to');
  if (to === undefined) throw new UsageError(`missing --to; allowed: ${TO_ALLOWED}`);
  return { nameserver: nameserverOf(args, env), group, topic, to: parseResetTo(to) };
}

export function parseResetTo(raw: string): ResetTo {
  const value = raw.trim();
  const edge = value.toLowerCase();
  if (edge === 'earliest' || edge === 'latest') return { kind: edge };
  const timestampMs = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new UsageError(`--to ${JSON.stringify(raw)} is invalid; allowed: ${TO_ALLOWED}`);
  }
  return { kind: 'time', timestampMs };
}

function requestOf(input: GroupResetOffsetInput): AdminResetOffsetRequest {
  const request = { group: input.group, topic: input.topic };
  return input.to.kind === 'time'
    ? { ...request, timestamp_ms: input.to.timestampMs }
    : { ...request, edge: input.to.kind === 'earliest' ? 'EARLIEST' : 'LATEST' };
}

async function resetOn(
  admin: BrokerAdminClient,
  master: MasterBroker,
  input: GroupResetOffsetInput,
): Promise<BrokerOutcome<AdminResetOffsetResponse>> {
  const hints = {
    GROUP_NOT_FOUND: `Create it with \`apogee group create ${input.group}\`, then reset again.`,
    TOPIC_NOT_FOUND: `The broker has no topic ${input.topic}; \`apogee topic route ${input.topic}\` shows which brokers serve it.`,
  };
  const value = await callServer(brokerTarget(master), () => admin.call('ResetOffset', requestOf(input)), hints);
  return { ...master, result: 'reset', value };
}

function describeTo(to: ResetTo): string {
  if (to.kind === 'time') return `${new Date(to.timestampMs).toISOString()} (the first message stored at or after it)`;
  return to.kind === 'earliest' ? 'the earliest stored offset' : 'the latest offset (skipping the backlog)';
}

function offsetText(value: number | string | undefined): string {
  return value === undefined ? '-' : String(value);
}

const NEW_CLIENTS = '(new clients)';

/** Whose position a row moved: a broadcast group's client, its new clients, or (normal group) none. */
function clientOf(broadcast: boolean | undefined, q: AdminQueueOffsetReset): string {
  return broadcast ? q.client_id || NEW_CLIENTS : '';
}

/** One row per queue (and client) of each broker that answered, then each failure's message and hint, then notes. */
export function renderResetOffset(input: GroupResetOffsetInput, outcomes: readonly BrokerOutcome<AdminResetOffsetResponse>[]): string {
  const perClient = outcomes.some((o) => o.value?.broadcast);
  const client = (value: string): string[] => (perClient ? [value] : []);
  const rows = outcomes.flatMap((o) =>
    o.value === undefined
      ? [[o.brokerName, ...client('-'), '-', 'FAILED', '-']]
      : (o.value.queues ?? []).map((q) => [
          o.brokerName,
          ...client(clientOf(o.value?.broadcast, q)),
          String(q.queue_id ?? 0),
          `${offsetText(q.old_committed_offset)} → ${offsetText(q.new_offset)}`,
          String(q.dropped_inflight ?? 0),
        ]),
  );
  const lines = [
    `Group ${input.group} on topic ${input.topic}: reset to ${describeTo(input.to)}`,
    formatTable(['broker', ...client('client'), 'queue', 'committed offset', 'in-flight dropped'], rows).trimEnd(),
  ];
  for (const o of outcomes) {
    if (o.error !== undefined) lines.push(`${o.brokerName}: ${o.error.message}${o.error.hint ? `\n  hint: ${o.error.hint}` : ''}`);
    if (o.value?.future_timestamp) lines.push(`note: the time is after ${o.brokerName}'s clock, so it reset to the latest offset`);
  }
  if (!perClient && rows.some((r) => r[2]?.startsWith('- '))) lines.push('"-": the group had not consumed that queue; it starts at the new offset.');
  if (perClient) {
    const later = input.to.kind === 'latest' ? 'at the end of each queue, as when they first receive' : 'at the new offset';
    lines.push(`Broadcast group: every client that consumed the topic moved; ${NEW_CLIENTS}: clients that appear later start ${later}.`);
  }
  return `${lines.join('\n')}\n`;
}

function queueJson(q: AdminQueueOffsetReset): object {
  return {
    queueId: q.queue_id ?? 0,
    oldCommittedOffset: q.old_committed_offset === undefined ? null : Number(q.old_committed_offset),
    newOffset: Number(q.new_offset ?? 0),
    droppedInflight: q.dropped_inflight ?? 0,
    ...(q.client_id ? { clientId: q.client_id } : {}),
  };
}

export function resetOffsetJson(input: GroupResetOffsetInput, outcomes: readonly BrokerOutcome<AdminResetOffsetResponse>[]): object {
  const to = input.to.kind === 'time' ? { kind: 'time', timestamp: new Date(input.to.timestampMs).toISOString() } : { kind: input.to.kind };
  return {
    group: input.group,
    topic: input.topic,
    to,
    ok: outcomes.every((o) => o.result !== 'failed'),
    brokers: outcomes.map((o) =>
      brokerOutcomeJson(o, (value) => ({
        futureTimestamp: value.future_timestamp ?? false,
        ...(value.broadcast ? { broadcast: true } : {}),
        queues: (value.queues ?? []).map(queueJson),
      })),
    ),
  };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseGroupResetOffset(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: input.nameserver } as const;
  const hints = { NOT_FOUND: `No broker serves topic ${input.topic}; \`apogee topic list\` shows the topics that have a route.` };
  const route = await withNameServer(ctx, input.nameserver, (ns) => callServer(target, () => ns.queryRoute(input.topic), hints));
  const outcomes = await applyOnMasters(ctx, routeMasters(route), (admin, master) => resetOn(admin, master, input));
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  return {
    text: renderResetOffset(input, outcomes),
    json: resetOffsetJson(input, outcomes),
    exitCode: failed === 0 ? EXIT_OK : EXIT_FAILURE,
    ...(failed === 0 ? {} : { warning: `resetting group ${input.group} failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}` }),
  };
}

export const groupResetOffsetCommand: Command = {
  noun: 'group',
  verb: 'reset-offset',
  operands: '<group>',
  summary: "Move a group's consume position on a topic to a time, to the earliest or to the latest offset",
  synopsis: '<group> --topic T --to <ISO time|earliest|latest>',
  options: {
    topic: { type: 'string', value: 'T', description: 'the topic whose queues get the new position (required)' },
    to: {
      type: 'string',
      value: 'WHERE',
      description: 'earliest, latest, or an ISO 8601 time with a zone: the first message stored at or after it (required)',
    },
  },
  examples: [
    'apogee group reset-offset billing --topic orders --to 2026-01-31T08:00:00Z',
    'apogee group reset-offset billing --topic orders --to earliest --json',
  ],
  notes: [
    'Every master serving the topic moves the group in each of its queues; consumers then receive from there on,',
    'messages they had acked included. Messages in flight are dropped: acking them fails with INVALID_RECEIPT_HANDLE.',
    'A time after the broker clock resets to latest. Exit 0 when every broker reset, 1 when any failed, 2 for a bad command line.',
    'A broadcast group: every client that consumed the topic moves, and clients that appear later start at the new offset',
    '(after --to latest: at the end, as by default).',
  ],
  run,
};
