import path from 'node:path';
import type { TopicConfig } from '@apogee/routing';
import { MetadataStore } from '@apogee/storage';
import type { Logger } from '@apogee/runtime';
import type { BrokerConfig } from '../config';
import type { GroupConfig } from './group-config';
import { GROUPS_TABLE, GroupRegistry } from './group-registry';
import { TOPICS_TABLE, TopicRegistry } from './topic-registry';

/** The broker's durable topic and group metadata, in <dataDir>/meta. */
export interface BrokerMetadata {
  readonly dir: string;
  readonly topics: TopicRegistry;
  readonly groups: GroupRegistry;
  /** The store under <dataDir>/meta, for more tables (POP consumption state). */
  readonly store: MetadataStore;
  /** Waits for queued writes, then closes every table. */
  close(): Promise<void>;
}

export type MetadataConfig = Pick<BrokerConfig, 'dataDir' | 'autoCreateTopics' | 'autoCreateGroups'> & Partial<Pick<BrokerConfig, 'flushIntervalMs'>>;

/** Opens (recovering after a crash) <dataDir>/meta and its `topics` and `groups` tables. */
export async function openBrokerMetadata(config: MetadataConfig, logger: Logger): Promise<BrokerMetadata> {
  const dir = path.join(config.dataDir, 'meta');
  // 'written' records (POP state under ASYNC flush) are synced as often as the commit log
  const store = await MetadataStore.open(dir, { deferredSyncMs: config.flushIntervalMs });
  try {
    const topicTable = await store.table<TopicConfig>(TOPICS_TABLE);
    const groupTable = await store.table<GroupConfig>(GROUPS_TABLE);
    const log = logger.child({ component: 'metadata' });
    const topics = new TopicRegistry(topicTable, { autoCreateTopics: config.autoCreateTopics, logger: log });
    const groups = new GroupRegistry(groupTable, { autoCreateGroups: config.autoCreateGroups, logger: log });
    const recovery = [topicTable.openReport, groupTable.openReport];
    const fields = { dir, topics: topics.size, groups: groups.size, recovery };
    if (recovery.some((report) => report.truncatedBytes > 0)) logger.warn(fields, 'metadata opened');
    else logger.info(fields, 'metadata opened');
    return { dir, topics, groups, store, close: () => store.close() };
  } catch (err) {
    await store.close().catch(() => undefined); // the open failure is the error to report
    throw err;
  }
}
