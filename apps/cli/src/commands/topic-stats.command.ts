/**
 * `apogee topic stats <topic>`: per queue of the topic on every broker that serves it (the
 * nameserver's route), the stored offset range and when its newest message was stored
 * (BrokerAdmin.TopicStats, as RocketMQ's `topicStatus`).
 */
import { brokerOutcomeJson } from '../broker-outcomes';
import type { BrokerAdminClient, BrokerAdminMethods } from '@apogee/protocol';
import { validateTopicName } from '@apogee/routing';
import { checkName, expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { EXIT_FAILURE, EXIT_OK } from '../cli-error';
import { applyOnMasters, brokerTarget, routeMasters, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatAge, formatTable } from '../table';

type TopicStatsResponse = BrokerAdminMethods['TopicStats'][1];

export interface TopicStatsInput {
  readonly nameserver: string;
  readonly topic: string;
}

export function parseTopicStats(args: ParsedArgs, env: CommandContext['env'] = {}): TopicStatsInput {
  const [topic] = expectPositionals(args, ['topic']) as [string];
  checkName((name) => validateTopicName(name, { allowReserved: true }), topic);
  return { nameserver: nameserverOf(args, env), topic };
}

export interface QueueStatsRow {
  readonly brokerName: string;
  readonly queueId: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  /** max − min: messages stored now. */
  readonly messages: number;
  /** Epoch ms of the newest message; 0 when the queue is empty. */
  readonly lastStoreTimestampMs: number;
}

export function statsRows(outcomes: readonly BrokerOutcome<TopicStatsResponse>[]): QueueStatsRow[] {
  return outcomes.flatMap((o) =>
    (o.value?.queues ?? []).map((q) => {
      const minOffset = Number(q.min_offset ?? 0);
      const maxOffset = Number(q.max_offset ?? 0);
      return {
        brokerName: o.brokerName,
        queueId: q.queue_id ?? 0,
        minOffset,
        maxOffset,
        messages: Math.max(0, maxOffset - minOffset),
        lastStoreTimestampMs: Number(q.last_store_timestamp_ms ?? 0),
      };
    }),
  );
}

const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : '-');

export function renderTopicStats(topic: string, outcomes: readonly BrokerOutcome<TopicStatsResponse>[], nowMs: number): string {
  const rows = statsRows(outcomes);
  const total = rows.reduce((sum, r) => sum + r.messages, 0);
  const newest = rows.reduce((most, r) => Math.max(most, r.lastStoreTimestampMs), 0);
  const lines = [`Topic ${topic}: ${total} message${total === 1 ? '' : 's'} stored in ${rows.length} queue${rows.length === 1 ? '' : 's'}`];
  const table = [
    ...outcomes.flatMap((o) =>
      o.value === undefined
        ? [[o.brokerName, '-', '-', '-', '-', 'FAILED']]
        : statsRows([o]).map((r) => [
            r.brokerName,
            String(r.queueId),
            String(r.minOffset),
            String(r.maxOffset),
            String(r.messages),
            r.lastStoreTimestampMs > 0 ? `${iso(r.lastStoreTimestampMs)} (${formatAge(r.lastStoreTimestampMs, nowMs)})` : '-',
          ]),
    ),
    ['TOTAL', '', '', '', String(total), newest > 0 ? `${iso(newest)} (${formatAge(newest, nowMs)})` : '-'],
  ];
  lines.push(formatTable(['broker', 'queue', 'min', 'max', 'messages', 'last-stored'], table).trimEnd());
  for (const o of outcomes) {
    if (o.error !== undefined) lines.push(`${o.brokerName}: ${o.error.message}${o.error.hint ? `\n  hint: ${o.error.hint}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function topicStatsJson(topic: string, outcomes: readonly BrokerOutcome<TopicStatsResponse>[]): object {
  const rows = statsRows(outcomes);
  return {
    topic,
    ok: outcomes.every((o) => o.result !== 'failed'),
    totals: { messages: rows.reduce((sum, r) => sum + r.messages, 0), queues: rows.length },
    brokers: outcomes.map((o) =>
      brokerOutcomeJson(o, () => ({
        queues: statsRows([o]).map(({ brokerName: _broker, lastStoreTimestampMs, ...q }) => ({
          ...q,
          lastStoreTime: lastStoreTimestampMs > 0 ? iso(lastStoreTimestampMs) : null,
        })),
      })),
    ),
  };
}

async function statsOn(admin: BrokerAdminClient, master: MasterBroker, topic: string): Promise<BrokerOutcome<TopicStatsResponse>> {
  const hints = {
    TOPIC_NOT_FOUND: `This broker no longer has topic ${topic} (deleted meanwhile?); \`apogee topic route ${topic}\` shows who serves it.`,
    UNIMPLEMENTED: 'This broker is older than the CLI and has no TopicStats; upgrade it.',
  };
  const value = await callServer(brokerTarget(master), () => admin.call('TopicStats', { topic }), hints);
  return { ...master, result: 'read', value };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const { nameserver, topic } = parseTopicStats(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: nameserver } as const;
  const hints = { NOT_FOUND: `No live broker serves topic ${topic}; \`apogee topic list\` lists the topics, \`apogee topic create\` makes one.` };
  const route = await withNameServer(ctx, nameserver, (ns) => callServer(target, () => ns.queryRoute(topic), hints));
  const masters = routeMasters(route);
  const outcomes = await applyOnMasters(ctx, masters, (admin, master) => statsOn(admin, master, topic), `reading stats of ${topic}`);
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  return {
    text: renderTopicStats(topic, outcomes, ctx.deps.now()),
    json: topicStatsJson(topic, outcomes),
    exitCode: failed === 0 ? EXIT_OK : EXIT_FAILURE,
    ...(failed === 0 ? {} : { warning: `reading the stats of topic ${topic} failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}` }),
  };
}

export const topicStatsCommand: Command = {
  noun: 'topic',
  verb: 'stats',
  operands: '<topic>',
  summary: "Show a topic's queues on every broker that serves it: stored offsets and when the last message was stored",
  synopsis: '<topic>',
  options: {},
  examples: ['apogee topic stats orders', 'apogee topic stats orders --json'],
  notes: [
    'MIN and MAX: the first stored offset and the offset the next message gets; MESSAGES = MAX − MIN (retention removes old ones).',
    'Exit 0 when every broker answered, 1 when any failed or no broker serves the topic, 2 for a bad command line.',
  ],
  run,
};
