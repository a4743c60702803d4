import { checkMessage } from './message-validation';
import type { WireMessage } from './v2-wire';

const NOW = 1_700_000_000_000;

function message(system: WireMessage['system_properties'] = {}, extra: Partial<WireMessage> = {}): WireMessage {
  return {
    topic: { name: 'orders' },
    body: Buffer.from('hello'),
    system_properties: { message_id: '01ABC', message_type: 'NORMAL', ...system },
    ...extra,
  };
}

function codeOf(wire: WireMessage, maxBodyBytes = 1024): string {
  try {
    checkMessage(wire, maxBodyBytes, NOW);
    return 'OK';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('checkMessage', () => {
  it('keeps id, tag, keys, born host and time, and user properties', () => {
    const checked = checkMessage(
      message(
        { tag: 'created', keys: ['k1'], born_host: 'h1', born_timestamp: { seconds: '1700000000', nanos: 5_000_000 } },
        { user_properties: { region: 'eu' } },
      ),
      1024,
      NOW,
    );
    expect(checked).toMatchObject({
      topic: 'orders',
      messageType: 'NORMAL',
      messageId: '01ABC',
      tag: 'created',
      keys: ['k1'],
      bornHost: 'h1',
      bornTimestampMs: 1_700_000_000_005,
      properties: { region: 'eu' },
    });
  });

  it('infers the type from the fields when it is unspecified, and stores the message group', () => {
    const checked = checkMessage(message({ message_type: undefined, message_group: 'g1' }), 1024, NOW);
    expect(checked.messageType).toBe('FIFO');
    expect(checked.properties).toEqual({ __SHARDINGKEY: 'g1' });
    expect(checked.bornTimestampMs).toBe(NOW);
  });

  it.each([
    ['a bad topic name', message({}, { topic: { name: 'a b' } }), 'INVALID_TOPIC_NAME'],
    ['no message id', message({ message_id: '' }), 'MISSING_MESSAGE_ID'],
    ['an empty body', message({}, { body: Buffer.alloc(0) }), 'EMPTY_MESSAGE_BODY'],
    ['a body over the limit', message({}, { body: Buffer.alloc(1025) }), 'MESSAGE_TOO_LARGE'],
    ['a tag with |', message({ tag: 'a|b' }), 'INVALID_TAG'],
    ['a blank key', message({ keys: [' '] }), 'INVALID_MESSAGE_KEY'],
    ['a reserved property', message({}, { user_properties: { TAGS: 'x' } }), 'INVALID_PROPERTY_KEY'],
    ['a control character in a property value', message({}, { user_properties: { a: 'x\u0001' } }), 'INVALID_PROPERTY_KEY'],
    ['too many properties', message({}, { user_properties: Object.fromEntries([...Array(129).keys()].map((i) => [`p${i}`, 'v'])) }), 'PROPERTIES_TOO_LARGE'],
    ['a NORMAL message with a group', message({ message_group: 'g' }), 'MESSAGE_TYPE_MISMATCH'],
    ['a LITE message', message({ message_type: 'LITE' }), 'UNSUPPORTED_MESSAGE_TYPE'],
  ])('refuses %s', (_what, wire, code) => {
    expect(codeOf(wire)).toBe(code);
  });
});
