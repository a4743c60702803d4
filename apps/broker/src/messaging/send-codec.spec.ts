import { loadMessagingService } from '@apogee/protocol';
import { decodeSendMessageRequest, encodeSendMessageResponse } from './send-codec';
import type { WireSendMessageResponse } from './v2-wire';

const { SendMessage } = loadMessagingService().service;

/** What proto-loader makes of the bytes it writes for `request`. */
function viaProtoLoader(request: object): { bytes: Buffer; decoded: unknown } {
  const bytes = SendMessage.requestSerialize(request);
  return { bytes, decoded: SendMessage.requestDeserialize(bytes) };
}

const body = Buffer.from('hello, broker');

const requests: Record<string, object> = {
  'a normal message as the Node client sends it': {
    messages: [
      {
        topic: { resource_namespace: '', name: 'orders' },
        user_properties: { region: 'eu', 'x-1': 'ü€𝄞' },
        system_properties: {
          tag: 'TagA',
          keys: ['k1', 'k2'],
          message_id: '01ABCDEF0123456789',
          body_digest: { type: 'CRC32', checksum: 'deadbeef' },
          body_encoding: 'IDENTITY',
          message_type: 'NORMAL',
          born_timestamp: { seconds: '1700000000', nanos: 123000000 },
          born_host: 'host-1',
          queue_id: 0,
          trace_context: 'trace',
        },
        body,
      },
    ],
  },
  'FIFO, delay, transaction recovery and unusual fields': {
    messages: [
      {
        topic: { name: 'fifo' },
        system_properties: { message_id: 'm1', message_type: 'FIFO', message_group: 'g-1', queue_id: -1, priority: 3, lite_topic: 'lt' },
        body: Buffer.alloc(0),
      },
      {
        topic: { name: 'delay' },
        system_properties: {
          message_id: 'm2',
          message_type: 'DELAY',
          delivery_timestamp: { seconds: '99999999999', nanos: 0 },
          orphaned_transaction_recovery_duration: { seconds: '-5', nanos: -1 },
          queue_offset: '9007199254740993',
          delivery_attempt: 2,
          dead_letter_queue: { topic: 't', message_id: 'x' },
          receipt_handle: 'rh',
          store_host: 'sh',
          store_timestamp: { seconds: '1' },
          invisible_duration: { nanos: 5 },
        },
        body: Buffer.alloc(70_000, 7),
      },
    ],
  },
  'an empty request': {},
  'a message with nothing set': { messages: [{}] },
};

describe('decodeSendMessageRequest', () => {
  for (const [name, request] of Object.entries(requests)) {
    it(`decodes ${name} to the object proto-loader makes`, () => {
      const { bytes, decoded } = viaProtoLoader(request);
      expect(decodeSendMessageRequest(bytes)).toEqual(decoded);
    });
  }

  it('skips fields it does not know and keeps unknown enum numbers as numbers, as proto-loader does', () => {
    const known = SendMessage.requestSerialize({ messages: [{ topic: { name: 't' }, system_properties: { message_id: 'm' } }] });
    // message 1 → Message: an unknown field 15 (varint 1) after the known ones, and message_type 42
    const inner = known.subarray(2);
    const systemExtra = Buffer.from([0x30, 42]); // SystemProperties.message_type = 42
    const withExtra = Buffer.concat([inner, Buffer.from([0x1a, systemExtra.length]), systemExtra, Buffer.from([0x78, 0x01])]);
    const bytes = Buffer.concat([Buffer.from([0x0a, withExtra.length]), withExtra]);
    expect(decodeSendMessageRequest(bytes)).toEqual(SendMessage.requestDeserialize(bytes));
  });

  it('refuses a truncated request', () => {
    const { bytes } = viaProtoLoader(requests['a normal message as the Node client sends it']);
    expect(() => decodeSendMessageRequest(bytes.subarray(0, bytes.length - 3))).toThrow(/past the end/);
  });
});

describe('encodeSendMessageResponse', () => {
  const responses: Record<string, WireSendMessageResponse> = {
    'all OK': {
      status: { code: 'OK', message: 'OK' },
      entries: [
        { status: { code: 'OK', message: 'OK' }, message_id: 'm1', transaction_id: '', offset: '42' },
        { status: { code: 'OK', message: 'OK' }, message_id: 'm2', transaction_id: 'tx', offset: '9007199254740991', recall_handle: 'rh' } as never,
      ],
    },
    'mixed results with unicode messages': {
      status: { code: 'MULTIPLE_RESULTS', message: '1 of 2 messages failed; see each entry' },
      entries: [
        { status: { code: 'OK', message: 'OK' }, message_id: 'm1', transaction_id: '', offset: '0' },
        { status: { code: 'MESSAGE_BODY_EMPTY' as never, message: 'leer — ü' }, message_id: 'm2', transaction_id: '', offset: '0' },
      ],
    },
    'a refusal without entries': { status: { code: 'TOO_MANY_REQUESTS' as never, message: 'slow down' } } as unknown as WireSendMessageResponse,
  };
  for (const [name, response] of Object.entries(responses)) {
    it(`writes the bytes proto-loader writes: ${name}`, () => {
      expect(encodeSendMessageResponse(response).equals(SendMessage.responseSerialize(response))).toBe(true);
    });
  }
});
