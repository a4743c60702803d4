/** BrokerAdmin's topic RPCs: wire ↔ TopicConfig, then the TopicRegistry does the work. */
import { ApogeeError, type AdminTopic, type AdminTopicRequest, type BrokerAdminHandlers } from '@apogee/protocol';
import {
  fromV2Permission,
  isMessageType,
  MESSAGE_TYPES,
  toV2Permission,
  validateTopicName,
  type MessageType,
  type Permission,
  type TopicConfig,
} from '@apogee/routing';
import type { TopicChanges, TopicRegistry } from '../metadata/topic-registry';

type TopicHandlers = Pick<BrokerAdminHandlers, 'CreateTopic' | 'UpdateTopic' | 'DeleteTopic' | 'GetTopic' | 'ListTopics'>;

export function topicAdminHandlers(topics: TopicRegistry): TopicHandlers {
  return {
    CreateTopic: async (request) => ({ topic: toAdminTopic(await topics.create({ name: nameOf(request), ...changesOf(request) })) }),
    UpdateTopic: async (request) => ({ topic: toAdminTopic(await topics.update(nameOf(request), changesOf(request))) }),
    DeleteTopic: async (request) => ({ topic: toAdminTopic(await topics.delete(nameOf(request))) }),
    GetTopic: async (request) => ({ topic: toAdminTopic(topics.require(checkedName(request))) }),
    ListTopics: async () => ({ topics: topics.list().map(toAdminTopic) }),
  };
}

export function toAdminTopic(topic: TopicConfig): AdminTopic {
  return {
    name: topic.name,
    read_queue_count: topic.readQueueCount,
    write_queue_count: topic.writeQueueCount,
    permission: toV2Permission(topic.permission),
    message_type: topic.messageType,
  };
}

function nameOf(request: { name?: string }): string {
  return request.name ?? '';
}

/** The name, if well-formed: reserved topics (which only the broker creates) may be read, not changed. */
function checkedName(request: { name?: string }): string {
  const name = nameOf(request);
  validateTopicName(name, { allowReserved: true });
  return name;
}

/** The fields the request sets; unset and UNSPECIFIED ones are left out. */
function changesOf(request: AdminTopicRequest): TopicChanges {
  return {
    readQueueCount: request.read_queue_count,
    writeQueueCount: request.write_queue_count,
    permission: permissionOf(request.permission),
    messageType: messageTypeOf(request.message_type),
  };
}

function permissionOf(value: unknown): Permission | undefined {
  if (value === undefined || value === 'PERMISSION_UNSPECIFIED') return undefined;
  return fromV2Permission(String(value));
}

function messageTypeOf(value: unknown): MessageType | undefined {
  if (value === undefined || value === 'MESSAGE_TYPE_UNSPECIFIED') return undefined;
  if (isMessageType(value)) return value;
  throw new ApogeeError(
    'INVALID_MESSAGE_TYPE',
    `Message type ${JSON.stringify(value)} is unknown; allowed: ${MESSAGE_TYPES.join(', ')}`,
  );
}
