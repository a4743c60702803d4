import { validateGroupName } from '@apogee/routing';
import { ApogeeError } from '@apogee/protocol';
import { broadcastStateKey, clientOfStateKey, groupOfStateKey, handleScopeOf, stateGroupOf } from './broadcast-state';
import { DeadLetterQueue } from './dead-letter-queue';
import { parseKey, queueKey } from './queue-ref';

describe('broadcast state keys', () => {
  const clientId = 'host.local@1234@1@lz3k9x';

  it('keeps a normal group as it is and gives each client of a broadcast group its own key', () => {
    expect(stateGroupOf({ name: 'billing', broadcast: false }, clientId)).toBe('billing');
    const a = stateGroupOf({ name: 'billing', broadcast: true }, clientId);
    const b = stateGroupOf({ name: 'billing', broadcast: true }, 'other@1@1@1');
    expect(a).toBe(`billing#${clientId}`);
    expect(a).not.toBe(b);
  });

  it('maps a key back to its group and client', () => {
    expect(groupOfStateKey(broadcastStateKey('%a|b-c_d', 'x#y'))).toBe('%a|b-c_d');
    expect(clientOfStateKey(broadcastStateKey('g', 'x#y'))).toBe('x#y');
    expect(groupOfStateKey('billing')).toBe('billing');
    expect(clientOfStateKey('billing')).toBeUndefined();
  });

  it('never names a real group', () => {
    expect(() => validateGroupName(broadcastStateKey('g', 'c'))).toThrow();
  });

  it('stays a valid queue key whatever the client id holds', () => {
    for (const id of ['a"b', 'a\\b', '[1,2]', 'a\u0000b', 'ünï', '']) {
      const ref = { group: broadcastStateKey('g', id), topic: 't', queueId: 2 };
      expect(parseKey(queueKey(ref))).toEqual({ ref, queueOffset: undefined });
    }
  });
});

describe('handleScopeOf', () => {
  const groups = {
    get: (name: string) => (name === 'fanout' ? { name, broadcast: true } : name === 'plain' ? { name, broadcast: false } : undefined),
  };

  it('acts under the calling client for a broadcast group and explains a refused handle', () => {
    const scope = handleScopeOf(groups, 'fanout', 'c1');
    expect(scope.stateGroup).toBe('fanout#c1');
    const explained = scope.explain(new ApogeeError('RECEIPT_HANDLE_STALE', 'superseded'));
    expect(explained).toMatchObject({ code: 'RECEIPT_HANDLE_STALE', message: expect.stringContaining('valid only for the client that received') });
    const other = new Error('disk');
    expect(scope.explain(other)).toBe(other);
  });

  it('leaves normal and unknown groups as they are', () => {
    for (const name of ['plain', 'unknown']) {
      const scope = handleScopeOf(groups, name, 'c1');
      expect(scope.stateGroup).toBe(name);
      const err = new ApogeeError('RECEIPT_HANDLE_STALE', 'superseded');
      expect(scope.explain(err)).toBe(err);
    }
  });
});

describe('dead letters of a broadcast client', () => {
  it('go to the DLQ of the group, not of the state key', async () => {
    const ensured: string[] = [];
    const dlq = new DeadLetterQueue(
      { append: async () => ({}) as never },
      { ensureDeadLetterTopic: async (group: string) => (ensured.push(group), { name: `%DLQ%${group}` }) as never },
    );
    const message = { topic: 't', messageId: 'm', body: Buffer.alloc(0), properties: {}, bornTimestampMs: 0 } as never;
    await dlq.deadLetter(broadcastStateKey('fanout', 'c1'), message, 3);
    await dlq.deadLetter('plain', message, 3);
    expect(ensured).toEqual(['fanout', 'plain']);
  });
});
