/**
 * Topic and broker permissions as RocketMQ's `PermName` bit set:
 *
 * | bit      | value | meaning                                                     |
 * | -------- | ----- | ----------------------------------------------------------- |
 * | PRIORITY | 8     | priority topic (kept for compatibility, unused here)        |
 * | READ     | 4     | consumers may read the queues                               |
 * | WRITE    | 2     | producers may write the queues                              |
 * | INHERIT  | 1     | auto-created topics may copy this config (RocketMQ TBW102)  |
 *
 * Clients of the v2 protocol only see READ and WRITE, as the enum names 'NONE', 'READ',
 * 'WRITE' and 'READ_WRITE'.
 */
import { RoutingError } from './routing-error';

export const PERM_PRIORITY = 1 << 3;
export const PERM_READ = 1 << 2;
export const PERM_WRITE = 1 << 1;
export const PERM_INHERIT = 1 << 0;
const ALL_BITS = PERM_PRIORITY | PERM_READ | PERM_WRITE | PERM_INHERIT;

/** A PermName bit set; the named values below cover the usual cases. */
export type Permission = number;

export const Permission = {
  NONE: 0,
  READ: PERM_READ,
  WRITE: PERM_WRITE,
  READ_WRITE: PERM_READ | PERM_WRITE,
} as const;

/** The permission names of `apache.rocketmq.v2.Permission` that carry meaning. */
export type V2Permission = 'NONE' | 'READ' | 'WRITE' | 'READ_WRITE';

export function isReadable(permission: Permission): boolean {
  return (permission & PERM_READ) !== 0;
}

export function isWritable(permission: Permission): boolean {
  return (permission & PERM_WRITE) !== 0;
}

export function isInheritable(permission: Permission): boolean {
  return (permission & PERM_INHERIT) !== 0;
}

/** Readable or writable: a queue that is neither is listed but unusable. */
export function isAccessible(permission: Permission): boolean {
  return isReadable(permission) || isWritable(permission);
}

/** Clears the READ and WRITE bits that `ceiling` lacks, keeping every other bit. */
export function restrictPermission(permission: Permission, ceiling: Permission): Permission {
  const access = PERM_READ | PERM_WRITE;
  return (permission & ~access) | (permission & ceiling & access);
}

export function validatePermission(permission: Permission): void {
  if (!Number.isInteger(permission) || permission < 0 || (permission & ~ALL_BITS) !== 0) {
    throw new RoutingError(
      'INVALID_PERMISSION',
      `Permission ${String(permission)} is not a PermName bit set; allowed: an integer from 0 to 15 ` +
        '(READ=4, WRITE=2, INHERIT=1, PRIORITY=8), e.g. 6 for read-write',
    );
  }
}

export function toV2Permission(permission: Permission): V2Permission {
  if (isReadable(permission)) return isWritable(permission) ? 'READ_WRITE' : 'READ';
  return isWritable(permission) ? 'WRITE' : 'NONE';
}

export function fromV2Permission(name: string): Permission {
  if (Object.hasOwn(Permission, name)) return Permission[name as V2Permission];
  throw new RoutingError(
    'INVALID_PERMISSION',
    `Permission name ${JSON.stringify(name)} is unknown; allowed: NONE, READ, WRITE, READ_WRITE`,
  );
}

/** Three letters as RocketMQ's `PermName.perm2String`: R, W and X (inherit), '-' when unset. */
export function describePermission(permission: Permission): string {
  return (
    (isReadable(permission) ? 'R' : '-') + (isWritable(permission) ? 'W' : '-') + (isInheritable(permission) ? 'X' : '-')
  );
}
