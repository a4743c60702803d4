/**
 * `apogee topic update <topic> [--queues N] [--perm R|W|RW] [--cluster C]`: BrokerAdmin.UpdateTopic
 * on every master of the cluster (RocketMQ's `updateTopic -c` on an existing topic). Only the
 * given settings change; a broker without the topic fails with what to run instead.
 */
import type { AdminPermission, AdminTopic, BrokerAdminClient } from '@apogee/protocol';
import { MAX_QUEUE_COUNT, MIN_QUEUE_COUNT, validateTopicName } from '@apogee/routing';
import {
  checkName,
  choiceOption,
  clusterOption,
  expectPositionals,
  integerOption,
  nameserverOf,
  type ParsedArgs,
} from '../cli-args';
import { UsageError } from '../cli-error';
import { fanOutToMasters } from '../broker-outcomes';
import { brokerTarget, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import type { Command, CommandContext, CommandOutput } from '../command';
import { callServer } from '../server-error';
import { topicJson } from './topic-create.command';

export const PERMISSIONS = ['R', 'W', 'RW', 'NONE'] as const;
export type PermissionFlag = (typeof PERMISSIONS)[number];

const WIRE_PERMISSION: Readonly<Record<PermissionFlag, AdminPermission>> = { R: 'READ', W: 'WRITE', RW: 'READ_WRITE', NONE: 'NONE' };

export interface TopicUpdateInput {
  readonly nameserver: string;
  readonly topic: string;
  readonly queues?: number;
  readonly perm?: PermissionFlag;
  readonly cluster?: string;
}

export function parseTopicUpdate(args: ParsedArgs, env: CommandContext['env'] = {}): TopicUpdateInput {
  const [topic] = expectPositionals(args, ['topic']) as [string];
  checkName(validateTopicName, topic);
  const queues = integerOption(args, 'queues', MIN_QUEUE_COUNT, MAX_QUEUE_COUNT);
  const perm = choiceOption(args, 'perm', PERMISSIONS);
  if (queues === undefined && perm === undefined) throw new UsageError('nothing to change; give --queues N and/or --perm R|W|RW');
  const cluster = clusterOption(args);
  return {
    nameserver: nameserverOf(args, env),
    topic,
    ...(queues === undefined ? {} : { queues }),
    ...(perm === undefined ? {} : { perm }),
    ...(cluster === undefined ? {} : { cluster }),
  };
}

export function topicUpdateRequest(input: TopicUpdateInput): AdminTopic {
  return {
    name: input.topic,
    ...(input.queues === undefined ? {} : { read_queue_count: input.queues, write_queue_count: input.queues }),
    ...(input.perm === undefined ? {} : { permission: WIRE_PERMISSION[input.perm] }),
  };
}

async function updateOn(admin: BrokerAdminClient, master: MasterBroker, input: TopicUpdateInput): Promise<BrokerOutcome<AdminTopic>> {
  const hints = {
    TOPIC_NOT_FOUND: `This broker has no topic ${input.topic}: create it with \`apogee topic create ${input.topic} --type NORMAL\` (it goes to every master).`,
  };
  const { topic } = await callServer(brokerTarget(master), () => admin.call('UpdateTopic', topicUpdateRequest(input)), hints);
  return { ...master, result: 'updated', value: topic ?? topicUpdateRequest(input) };
}

export function describeTopicChange(input: Pick<TopicUpdateInput, 'queues' | 'perm'>): string {
  return [input.queues === undefined ? '' : `${input.queues} queues per broker`, input.perm === undefined ? '' : `permission ${input.perm}`]
    .filter(Boolean)
    .join(', ');
}

function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseTopicUpdate(ctx.args, ctx.env);
  return fanOutToMasters(ctx, {
    nameserver: input.nameserver,
    cluster: input.cluster,
    what: `updating topic ${input.topic}`,
    heading: (cluster) => `Topic ${input.topic} (${describeTopicChange(input)}) in cluster ${cluster}:`,
    apply: (admin, master) => updateOn(admin, master, input),
    valueJson: topicJson,
    json: { topic: input.topic, queues: input.queues ?? null, perm: input.perm ?? null },
  });
}

export const topicUpdateCommand: Command = {
  noun: 'topic',
  verb: 'update',
  operands: '<topic>',
  summary: "Change a topic's queue count or permission on every master broker of a cluster",
  synopsis: '<topic> [--queues N] [--perm R|W|RW|NONE] [--cluster C]',
  options: {
    queues: { type: 'string', value: 'N', description: `read and write queues on each broker, ${MIN_QUEUE_COUNT}-${MAX_QUEUE_COUNT}` },
    perm: {
      type: 'string',
      value: 'R|W|RW|NONE',
      description: 'who may use the queues: R consumers only, W producers only, RW both, NONE nobody (e.g. to drain a topic)',
    },
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters change (default: the only cluster)' },
  },
  examples: ['apogee topic update orders --queues 16', 'apogee topic update orders --perm R --json'],
  notes: [
    'Only the given settings change. Fewer queues: messages in the removed queues stay stored but are no longer read.',
    'Exit 0 when every master changed, 1 when any broker failed (e.g. has no such topic), 2 for a bad command line.',
  ],
  run,
};
