/**
 * `apogee topic create <topic> --type T [--queues N] [--cluster C]`: BrokerAdmin.CreateTopic on
 * every master of the cluster, with N read and N write queues. Running it again is safe: a broker
 * that already has the topic with the asked settings reports "exists"; with other settings, it fails.
 */
import { status } from '@grpc/grpc-js';
import type { AdminTopic, BrokerAdminClient } from '@apogee/protocol';
import {
  DEFAULT_QUEUE_COUNT,
  MAX_QUEUE_COUNT,
  MESSAGE_TYPES,
  MIN_QUEUE_COUNT,
  validateTopicName,
  type MessageType,
} from '@apogee/routing';
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
import type { BrokerOutcome, MasterBroker } from '../cluster-masters';
import type { Command, CommandContext, CommandOutput } from '../command';
import { isServiceError } from '../server-error';

export interface TopicCreateInput {
  readonly nameserver: string;
  readonly topic: string;
  readonly messageType: MessageType;
  readonly queues: number;
  /** Whether --queues was given: only then must an existing topic have this many queues. */
  readonly queuesGiven: boolean;
  readonly cluster?: string;
}

export function parseTopicCreate(args: ParsedArgs, env: CommandContext['env'] = {}): TopicCreateInput {
  const [topic] = expectPositionals(args, ['topic']) as [string];
  checkName(validateTopicName, topic);
  const messageType = choiceOption(args, 'type', MESSAGE_TYPES);
  if (messageType === undefined) throw new UsageError(`missing --type; allowed: ${MESSAGE_TYPES.join(', ')}`);
  const queues = integerOption(args, 'queues', MIN_QUEUE_COUNT, MAX_QUEUE_COUNT);
  const cluster = clusterOption(args);
  return {
    nameserver: nameserverOf(args, env),
    topic,
    messageType,
    queues: queues ?? DEFAULT_QUEUE_COUNT,
    queuesGiven: queues !== undefined,
    ...(cluster === undefined ? {} : { cluster }),
  };
}

async function createOn(admin: BrokerAdminClient, master: MasterBroker, input: TopicCreateInput): Promise<BrokerOutcome<AdminTopic>> {
  const request = {
    name: input.topic,
    read_queue_count: input.queues,
    write_queue_count: input.queues,
    message_type: input.messageType,
  };
  try {
    const { topic } = await admin.call('CreateTopic', request);
    return { ...master, result: 'created', value: topic ?? request };
  } catch (err) {
    if (!isServiceError(err) || err.code !== status.ALREADY_EXISTS) throw err;
  }
  const { topic = {} } = await admin.call('GetTopic', { name: input.topic });
  const sameType = topic.message_type === input.messageType;
  const sameQueues = !input.queuesGiven || (topic.read_queue_count === input.queues && topic.write_queue_count === input.queues);
  if (sameType && sameQueues) return { ...master, result: 'exists', value: topic };
  return {
    ...master,
    result: 'failed',
    value: topic,
    error: {
      message: `topic ${input.topic} already exists with other settings: ${describeTopic(topic)}`,
      hint: 'Choose another name, or create it with the settings it has; the CLI does not change existing topics.',
      grpcStatus: 'ALREADY_EXISTS',
      apogeeCode: 'TOPIC_EXISTS',
    },
  };
}

function describeTopic(topic: AdminTopic): string {
  return `${topic.message_type ?? '?'}, ${topic.read_queue_count ?? '?'} read / ${topic.write_queue_count ?? '?'} write queues`;
}

export function topicJson(topic: AdminTopic): object {
  return {
    name: topic.name,
    messageType: topic.message_type,
    readQueueCount: topic.read_queue_count,
    writeQueueCount: topic.write_queue_count,
    permission: topic.permission,
  };
}

function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseTopicCreate(ctx.args, ctx.env);
  return fanOutToMasters(ctx, {
    nameserver: input.nameserver,
    cluster: input.cluster,
    what: `creating topic ${input.topic}`,
    heading: (cluster) => `Topic ${input.topic} (${input.messageType}, ${input.queues} queues per broker) in cluster ${cluster}:`,
    apply: (admin, master) => createOn(admin, master, input),
    valueJson: topicJson,
    json: { topic: input.topic, messageType: input.messageType, queues: input.queues },
  });
}

export const topicCreateCommand: Command = {
  noun: 'topic',
  verb: 'create',
  operands: '<topic>',
  summary: 'Create a topic on every master broker of a cluster',
  synopsis: `<topic> --type ${MESSAGE_TYPES.join('|')} [--queues N] [--cluster C]`,
  options: {
    type: { type: 'string', value: 'TYPE', description: `the one message type the topic accepts: ${MESSAGE_TYPES.join(', ')} (required)` },
    queues: {
      type: 'string',
      value: 'N',
      description: `read and write queues on each broker, ${MIN_QUEUE_COUNT}-${MAX_QUEUE_COUNT} (default ${DEFAULT_QUEUE_COUNT})`,
    },
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters get the topic (default: the only cluster)' },
  },
  examples: ['apogee topic create orders --type FIFO --queues 4', 'apogee topic create audit --type NORMAL --cluster DefaultCluster --json'],
  notes: [
    'Safe to run again: a broker that already has the topic with these settings reports "exists".',
    'Exit 0 when every master has the topic, 1 when any broker failed, 2 for a bad command line.',
  ],
  run,
};
