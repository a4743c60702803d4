/** `apogee topic route <topic>`: the topic's queues per broker (permission, message types) and the brokers' addresses. */
import { checkName, expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { toV2Permission, validateTopicName, type MessageQueue, type TopicRoute } from '@apogee/routing';
import { EXIT_OK } from '../cli-error';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatIdRanges, formatTable } from '../table';

export interface TopicRouteInput {
  readonly nameserver: string;
  readonly topic: string;
}

export function parseTopicRoute(args: ParsedArgs, env: CommandContext['env'] = {}): TopicRouteInput {
  const [topic] = expectPositionals(args, ['topic']) as [string];
  // Reserved names are fine to look at (%RETRY%..., rmq_sys_...): only their creation is refused.
  checkName((name) => validateTopicName(name, { allowReserved: true }), topic);
  return { nameserver: nameserverOf(args, env), topic };
}

/** One row per broker and run of queue ids that share permission and message types. */
export function renderTopicRoute(route: TopicRoute): string {
  const brokers = new Map(route.brokers.map((b) => [b.brokerName, b]));
  const rows: string[][] = [];
  let pending: MessageQueue[] = [];
  const flush = (): void => {
    const first = pending[0];
    if (first === undefined) return;
    const broker = brokers.get(first.brokerName);
    rows.push([
      first.brokerName,
      broker ? String(broker.brokerId) : '-',
      broker?.address ?? '-',
      formatIdRanges(pending.map((q) => q.queueId)),
      toV2Permission(first.permission),
      first.acceptMessageTypes.join(',') || '-',
    ]);
    pending = [];
  };
  for (const queue of route.queues) {
    const last = pending[pending.length - 1];
    if (last !== undefined && !sameKind(last, queue)) flush();
    pending.push(queue);
  }
  flush();
  const count = route.queues.length;
  const heading = `Topic ${route.topic}: ${count} queue${count === 1 ? '' : 's'} on ${route.brokers.length} broker${route.brokers.length === 1 ? '' : 's'}\n`;
  return heading + formatTable(['broker', 'id', 'address', 'queues', 'permission', 'types'], rows);
}

function sameKind(a: MessageQueue, b: MessageQueue): boolean {
  return (
    a.brokerName === b.brokerName &&
    a.queueId + 1 === b.queueId &&
    a.permission === b.permission &&
    a.acceptMessageTypes.join() === b.acceptMessageTypes.join()
  );
}

export function topicRouteJson(route: TopicRoute): object {
  return {
    topic: route.topic,
    brokers: route.brokers.map((b) => ({ brokerName: b.brokerName, brokerId: b.brokerId, address: b.address })),
    queues: route.queues.map((q) => ({
      brokerName: q.brokerName,
      queueId: q.queueId,
      permission: toV2Permission(q.permission),
      acceptMessageTypes: q.acceptMessageTypes,
    })),
  };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const { nameserver, topic } = parseTopicRoute(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: nameserver } as const;
  const hints = {
    NOT_FOUND:
      `Create it with \`apogee topic create ${topic} --type NORMAL\` (or the type you need); ` +
      '`apogee topic list` shows the topics that have a route.',
  };
  const route = await withNameServer(ctx, nameserver, (ns) => callServer(target, () => ns.queryRoute(topic), hints));
  return { text: renderTopicRoute(route), json: topicRouteJson(route), exitCode: EXIT_OK };
}

export const topicRouteCommand: Command = {
  noun: 'topic',
  verb: 'route',
  operands: '<topic>',
  summary: "Show a topic's queues per broker, with permissions, message types and broker addresses",
  synopsis: '<topic>',
  options: {},
  examples: ['apogee topic route orders', 'apogee topic route orders --json'],
  notes: ['Exit 1 when no live broker serves the topic.'],
  run,
};
