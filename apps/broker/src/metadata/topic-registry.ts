/**
 * The broker's topics: created, changed and deleted through BrokerAdmin, or auto-created on the
 * first send when `autoCreateTopics` is on. Stored in the `topics` MetaTable of <dataDir>/meta
 * (name → routing's TopicConfig as JSON: name, readQueueCount, writeQueueCount, permission as a
 * PermName bit set, messageType); every change resolves once it is durable.
 *
 * Deleting a topic removes its metadata only: its messages stay in the commit log until retention.
 * Change listeners (`onChange`) hear of every durable create, update, delete and auto-creation:
 * the nameserver registrar re-registers the broker's topic set on them.
 */
import { ApogeeError } from '@apogee/protocol';
import {
  createTopicConfig,
  deadLetterTopicOf,
  isReservedTopic,
  validateTopicName,
  type MessageType,
  type Permission,
  type ReservedNameOptions,
  type TopicConfig,
  type TopicConfigInput,
} from '@apogee/routing';
import type { MetaTable } from '@apogee/storage';
import type { Logger } from '@apogee/runtime';
import { NamedTable } from './named-table';
import { assertMessageType, assertWritable } from './topic-checks';

export const TOPICS_TABLE = 'topics';

export interface TopicRegistryOptions {
  /** Create an unknown topic on its first send, with that send's message type. */
  readonly autoCreateTopics: boolean;
  readonly logger: Logger;
}

/** The fields UpdateTopic may change; absent ones stay as they are. */
export interface TopicChanges {
  readonly readQueueCount?: number;
  readonly writeQueueCount?: number;
  readonly permission?: Permission;
  readonly messageType?: MessageType;
}

export type TopicChangeKind = 'created' | 'updated' | 'deleted';

/** Called after a topic change is durable, with the topic's new config (its last one when deleted). */
export type TopicChangeListener = (change: { readonly kind: TopicChangeKind; readonly topic: TopicConfig }) => void;

export class TopicRegistry {
  private autoCreate: boolean;
  private readonly topics: NamedTable<TopicConfig>;
  private readonly listeners = new Set<TopicChangeListener>();

  constructor(
    table: MetaTable<TopicConfig>,
    private readonly options: TopicRegistryOptions,
  ) {
    this.topics = new NamedTable(table);
    this.autoCreate = options.autoCreateTopics;
  }

  /** Whether an unknown topic is created on its first send (config autoCreateTopics; `apogee broker config set` changes it). */
  get autoCreateTopics(): boolean {
    return this.autoCreate;
  }

  setAutoCreateTopics(on: boolean): void {
    this.autoCreate = on;
  }

  get(name: string): TopicConfig | undefined {
    return this.topics.get(name);
  }

  get size(): number {
    return this.topics.size;
  }

  /** Every topic, sorted by name. */
  list(): TopicConfig[] {
    return this.topics.list();
  }

  /** Subscribes to topic changes; returns the unsubscribe function. */
  onChange(listener: TopicChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** The topic, or TOPIC_NOT_FOUND. */
  require(name: string): TopicConfig {
    const topic = this.topics.get(name);
    if (topic === undefined) throw notFound(name);
    return topic;
  }

  /** Validates, fills defaults (8 + 8 queues, READ_WRITE, NORMAL) and stores; TOPIC_EXISTS if taken. */
  async create(input: TopicConfigInput, options: ReservedNameOptions = {}): Promise<TopicConfig> {
    const config = createTopicConfig(input, options);
    await this.topics.insert(config, (existing) => exists(existing));
    this.options.logger.info({ topic: config }, 'topic created');
    this.notify('created', config);
    return config;
  }

  async update(name: string, changes: TopicChanges, options: ReservedNameOptions = {}): Promise<TopicConfig> {
    validateTopicName(name, options);
    const { before, after } = await this.topics.modify(
      name,
      (current) =>
        createTopicConfig(
          {
            name,
            readQueueCount: changes.readQueueCount ?? current.readQueueCount,
            writeQueueCount: changes.writeQueueCount ?? current.writeQueueCount,
            permission: changes.permission ?? current.permission,
            messageType: changes.messageType ?? current.messageType,
          },
          options,
        ),
      () => notFound(name),
    );
    this.options.logger.info({ before, topic: after }, 'topic updated');
    if (after !== before) this.notify('updated', after);
    return after;
  }

  /** Deletes the topic and resolves with its last config. */
  async delete(name: string, options: ReservedNameOptions = {}): Promise<TopicConfig> {
    validateTopicName(name, options);
    const deleted = await this.topics.remove(name, () => notFound(name));
    this.options.logger.info({ topic: deleted }, 'topic deleted');
    this.notify('deleted', deleted);
    return deleted;
  }

  /**
   * The topic a client sends `messageType` messages to: it must exist (or be auto-created, with
   * that type, when autoCreateTopics is on), not be reserved, accept the type and be writable.
   * Throws INVALID_TOPIC_NAME / RESERVED_TOPIC, TOPIC_NOT_FOUND, MESSAGE_TYPE_MISMATCH or
   * TOPIC_NOT_WRITABLE. Synchronous lookup for a known topic; only a creation waits for the disk.
   */
  async ensureTopicForSend(name: string, messageType: MessageType): Promise<TopicConfig> {
    const known = this.topics.get(name);
    const topic = known !== undefined && !isReservedTopic(name) ? known : await this.createForSend(name, messageType);
    assertMessageType(topic, messageType);
    assertWritable(topic);
    return topic;
  }

  private async createForSend(name: string, messageType: MessageType): Promise<TopicConfig> {
    validateTopicName(name);
    if (!this.autoCreate) {
      throw new ApogeeError(
        'TOPIC_NOT_FOUND',
        `Topic ${JSON.stringify(name)} does not exist on this broker; create it first ` +
          `(apogee topic create ${name} --type ${messageType}), or set autoCreateTopics in the broker config`,
      );
    }
    const { value, created } = await this.topics.getOrInsert(name, () => createTopicConfig({ name, messageType }));
    if (created) {
      this.options.logger.info({ topic: value }, 'topic auto-created');
      this.notify('created', value);
    }
    return value;
  }

  /**
   * The group's dead-letter topic `%DLQ%<group>`, created on first use (one queue, READ_WRITE,
   * NORMAL), whatever autoCreateTopics says: the broker manages it.
   */
  async ensureDeadLetterTopic(group: string): Promise<TopicConfig> {
    const name = deadLetterTopicOf(group);
    const input = { name, readQueueCount: 1, writeQueueCount: 1, messageType: 'NORMAL' as const };
    const { value, created } = await this.topics.getOrInsert(name, () => createTopicConfig(input, { allowReserved: true }));
    if (created) {
      this.options.logger.info({ topic: value }, 'dead-letter topic created');
      this.notify('created', value);
    }
    return value;
  }

  /** A slave takes its master's topics as they are (metadata-follower.ts); listeners hear each change. */
  async mirror(topics: readonly TopicConfig[]): Promise<number> {
    const changes = await this.topics.mirror(topics);
    for (const { kind, value } of changes) this.notify(kind, value);
    return changes.length;
  }

  /** The change is durable already: a failing listener is logged, never turned into a failed change. */
  private notify(kind: TopicChangeKind, topic: TopicConfig): void {
    for (const listener of this.listeners) {
      try {
        listener({ kind, topic });
      } catch (err) {
        this.options.logger.error({ err, topic: topic.name, kind }, 'topic change listener failed');
      }
    }
  }
}

function notFound(name: string): ApogeeError {
  return new ApogeeError(
    'TOPIC_NOT_FOUND',
    `Topic ${JSON.stringify(name)} does not exist on this broker; check the name (apogee topic list) or create it`,
  );
}

function exists(topic: TopicConfig): ApogeeError {
  return new ApogeeError(
    'TOPIC_EXISTS',
    `Topic ${JSON.stringify(topic.name)} already exists (${topic.messageType}, ${topic.readQueueCount} read / ` +
      `${topic.writeQueueCount} write queues); change it with UpdateTopic or choose another name`,
  );
}
