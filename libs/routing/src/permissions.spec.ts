import {
  describePermission,
  fromV2Permission,
  isAccessible,
  isInheritable,
  isReadable,
  isWritable,
  PERM_INHERIT,
  PERM_PRIORITY,
  PERM_READ,
  PERM_WRITE,
  Permission,
  restrictPermission,
  toV2Permission,
  validatePermission,
} from './permissions';
import { RoutingError } from './routing-error';

describe('permissions', () => {
  it('uses RocketMQ PermName bit values', () => {
    expect([PERM_PRIORITY, PERM_READ, PERM_WRITE, PERM_INHERIT]).toEqual([8, 4, 2, 1]);
    expect(Permission).toEqual({ NONE: 0, READ: 4, WRITE: 2, READ_WRITE: 6 });
  });

  it('reads the bits', () => {
    expect(isReadable(6)).toBe(true);
    expect(isWritable(6)).toBe(true);
    expect(isReadable(2)).toBe(false);
    expect(isWritable(4)).toBe(false);
    expect(isInheritable(7)).toBe(true);
    expect(isInheritable(6)).toBe(false);
    expect(isAccessible(1)).toBe(false);
    expect(isAccessible(4)).toBe(true);
  });

  it('maps every bit set to the v2 enum name and back', () => {
    for (let bits = 0; bits < 16; bits++) {
      const name = toV2Permission(bits);
      expect(isReadable(fromV2Permission(name))).toBe(isReadable(bits));
      expect(isWritable(fromV2Permission(name))).toBe(isWritable(bits));
    }
    expect(toV2Permission(7)).toBe('READ_WRITE');
    expect(toV2Permission(5)).toBe('READ');
    expect(toV2Permission(2)).toBe('WRITE');
    expect(toV2Permission(1)).toBe('NONE');
  });

  it('rejects unknown v2 names', () => {
    for (const name of ['PERMISSION_UNSPECIFIED', 'read', 'RW', 'toString', '']) {
      expect(() => fromV2Permission(name)).toThrow(RoutingError);
    }
  });

  it('restricts READ/WRITE to a ceiling and keeps the other bits', () => {
    expect(restrictPermission(7, Permission.READ)).toBe(PERM_READ | PERM_INHERIT);
    expect(restrictPermission(6, Permission.WRITE)).toBe(PERM_WRITE);
    expect(restrictPermission(6, Permission.NONE)).toBe(0);
    expect(restrictPermission(4, Permission.READ_WRITE)).toBe(4);
  });

  it('validates bit sets', () => {
    for (let bits = 0; bits < 16; bits++) expect(() => validatePermission(bits)).not.toThrow();
    for (const bad of [-1, 16, 1.5, NaN]) {
      expect(() => validatePermission(bad)).toThrow(expect.objectContaining({ code: 'INVALID_PERMISSION' }));
    }
  });

  it('describes a bit set as RocketMQ does', () => {
    expect(describePermission(6)).toBe('RW-');
    expect(describePermission(7)).toBe('RWX');
    expect(describePermission(4)).toBe('R--');
    expect(describePermission(0)).toBe('---');
  });
});
