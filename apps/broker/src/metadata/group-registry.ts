/**
 * The broker's subscription (consumer) groups: created, changed and deleted through BrokerAdmin,
 * or auto-created for the first consumer when `autoCreateGroups` is on. Stored in the `groups`
 * MetaTable of <dataDir>/meta (name → GroupConfig as JSON); every change resolves once durable.
 *
 * Deleting a group removes its configuration only; its offsets and retry/DLQ topics are left.
 */
import { ApogeeError } from '@apogee/protocol';
import { isSystemGroup, validateGroupName, type ReservedNameOptions } from '@apogee/routing';
import type { MetaTable } from '@apogee/storage';
import type { Logger } from '@apogee/runtime';
import { createGroupConfig, type GroupConfig, type GroupConfigInput, type RetryPolicy } from './group-config';
import { NamedTable } from './named-table';

export const GROUPS_TABLE = 'groups';

export interface GroupRegistryOptions {
  /** Create an unknown group, with the defaults, when a consumer of it first shows up. */
  readonly autoCreateGroups: boolean;
  readonly logger: Logger;
}

/** The fields UpdateGroup may change; absent ones stay as they are. */
export interface GroupChanges {
  readonly fifo?: boolean;
  readonly maxDeliveryAttempts?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly broadcast?: boolean;
}

export class GroupRegistry {
  private autoCreate: boolean;
  private readonly groups: NamedTable<GroupConfig>;

  constructor(
    table: MetaTable<GroupConfig>,
    private readonly options: GroupRegistryOptions,
  ) {
    this.groups = new NamedTable(table);
    this.autoCreate = options.autoCreateGroups;
  }

  /** Whether an unknown group is created for its first consumer (config autoCreateGroups; `apogee broker config set` changes it). */
  get autoCreateGroups(): boolean {
    return this.autoCreate;
  }

  setAutoCreateGroups(on: boolean): void {
    this.autoCreate = on;
  }

  get(name: string): GroupConfig | undefined {
    return this.groups.get(name);
  }

  get size(): number {
    return this.groups.size;
  }

  /** Every group, sorted by name. */
  list(): GroupConfig[] {
    return this.groups.list();
  }

  /** The group, or GROUP_NOT_FOUND. */
  require(name: string): GroupConfig {
    const group = this.groups.get(name);
    if (group === undefined) throw notFound(name);
    return group;
  }

  /** Validates, fills defaults and stores; GROUP_EXISTS if taken. */
  async create(input: GroupConfigInput, options: ReservedNameOptions = {}): Promise<GroupConfig> {
    const config = createGroupConfig(input, options);
    await this.groups.insert(config, (existing) => exists(existing));
    this.options.logger.info({ group: config }, 'group created');
    return config;
  }

  async update(name: string, changes: GroupChanges, options: ReservedNameOptions = {}): Promise<GroupConfig> {
    validateGroupName(name, options);
    const { before, after } = await this.groups.modify(
      name,
      (current) => {
        const broadcast = current.broadcast ?? false; // configs stored before broadcasting have no field
        if (changes.broadcast !== undefined && changes.broadcast !== broadcast) {
          // the positions live under other keys in the other mode: switching would re-deliver or skip
          throw new ApogeeError(
            'INVALID_ARGUMENT',
            `Consumer group ${JSON.stringify(name)}: broadcast cannot be changed (it is ${String(broadcast)}); ` +
              'create a new group with the mode you want',
          );
        }
        return createGroupConfig(
          {
            name,
            fifo: changes.fifo ?? current.fifo,
            maxDeliveryAttempts: changes.maxDeliveryAttempts ?? current.maxDeliveryAttempts,
            retryPolicy: changes.retryPolicy ?? current.retryPolicy,
            broadcast,
          },
          options,
        );
      },
      () => notFound(name),
    );
    this.options.logger.info({ before, group: after }, 'group updated');
    return after;
  }

  /** Deletes the group and resolves with its last config. */
  /** A slave takes its master's groups as they are (metadata-follower.ts). */
  async mirror(groups: readonly GroupConfig[]): Promise<number> {
    return (await this.groups.mirror(groups)).length;
  }

  async delete(name: string, options: ReservedNameOptions = {}): Promise<GroupConfig> {
    validateGroupName(name, options);
    const deleted = await this.groups.remove(name, () => notFound(name));
    this.options.logger.info({ group: deleted }, 'group deleted');
    return deleted;
  }

  /**
   * The group a consumer names: it must exist (or be auto-created with the defaults when
   * autoCreateGroups is on) and not be a system group. Throws INVALID_GROUP_NAME / RESERVED_GROUP
   * or GROUP_NOT_FOUND. Synchronous lookup for a known group; only a creation waits for the disk.
   */
  async ensureGroup(name: string): Promise<GroupConfig> {
    const known = this.groups.get(name);
    if (known !== undefined && !isSystemGroup(name)) return known;
    validateGroupName(name);
    if (!this.autoCreate) {
      throw new ApogeeError(
        'GROUP_NOT_FOUND',
        `Consumer group ${JSON.stringify(name)} does not exist on this broker; create it first ` +
          `(apogee group create ${name}), or set autoCreateGroups in the broker config`,
      );
    }
    const { value, created } = await this.groups.getOrInsert(name, () => createGroupConfig({ name }));
    if (created) this.options.logger.info({ group: value }, 'group auto-created');
    return value;
  }
}

function notFound(name: string): ApogeeError {
  return new ApogeeError(
    'GROUP_NOT_FOUND',
    `Consumer group ${JSON.stringify(name)} does not exist on this broker; check the name (apogee group list) or create it`,
  );
}

function exists(group: GroupConfig): ApogeeError {
  return new ApogeeError(
    'GROUP_EXISTS',
    `Consumer group ${JSON.stringify(group.name)} already exists; change it with UpdateGroup or choose another name`,
  );
}
