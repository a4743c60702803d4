/**
 * delivered-frame.ts encodes the ReceiveMessage / PullMessage frames by hand instead of letting
 * proto-loader convert an object (fromObject + encode) on every write. Its contract: the bytes are
 * exactly those proto-loader's responseSerialize makes of the object path — pulledMessage
 * (delivered-message.ts, still the object form for Telemetry) plus, for a POP delivery, the
 * receipt handle, invisible duration and attempt that ReceiveMessage used to add
 * (`objectDelivery` below, the former deliveredMessage). Each case is checked twice: byte for
 * byte against the old serialization, and decoded with the standard responseDeserialize (what
 * a client sees) against the decoding of the old bytes.
 */
import type { TopicConfig } from '@apogee/routing';
import { loadMessagingService, type V2Status } from '@apogee/protocol';
import type { StoredMessage } from '@apogee/storage';
import type { PoppedMessage } from '../consumer/pop-consumption';
import { deliveredFrame, deliveryTimestampFrame, nextOffsetFrame, pulledFrame } from './delivered-frame';
import { pulledMessage } from './delivered-message';
import { messagingServerDefinition, pullStatusFrame, receiveStatusFrame } from './frame-service';
import { decodeAckMessageRequest } from './ack-codec';
import { decodeSendMessageRequest, encodeSendMessageResponse } from './send-codec';
import { durationOf, timestampOf, type WireDeliveredMessage } from './v2-wire';

const { ReceiveMessage, PullMessage } = loadMessagingService().service;

/** The object ReceiveMessage wrote before delivered-frame.ts. */
function objectDelivery(popped: PoppedMessage, topic: TopicConfig, invisibleDurationMs: number): WireDeliveredMessage {
  const message = pulledMessage(popped.message, topic);
  return {
    ...message,
    system_properties: {
      ...message.system_properties,
      receipt_handle: popped.receiptHandle,
      invisible_duration: durationOf(invisibleDurationMs),
      delivery_attempt: popped.deliveryAttempt,
    },
  };
}

function topicOf(name: string, messageType: TopicConfig['messageType'] = 'NORMAL'): TopicConfig {
  return { name, readQueueCount: 8, writeQueueCount: 8, permission: 6, messageType } as TopicConfig;
}

function stored(overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    topic: 'orders',
    queueId: 3,
    queueOffset: 42,
    physicalOffset: 1_000,
    totalBytes: 300,
    flags: 0,
    bornTimestampMs: 1_764_000_000_123,
    storeTimestampMs: 1_764_000_000_456,
    bornHost: '10.0.0.7:51234',
    storeHost: '10.0.0.1:10911',
    messageId: '01AC110002000078A0000000000000000A',
    keys: [],
    tag: '',
    properties: {},
    body: Buffer.from('hello'),
    ...overrides,
  } as StoredMessage;
}

const cases: Array<[string, StoredMessage, TopicConfig]> = [
  ['a plain message', stored(), topicOf('orders')],
  ['tag, keys and user properties', stored({ tag: 'TagA', keys: ['k1', 'k2', 'k3'], properties: { color: 'red', 123: 'numeric name', size: '' } }), topicOf('orders')],
  ['an empty body', stored({ body: Buffer.alloc(0) }), topicOf('orders')],
  ['a 20 KB body (3-byte lengths)', stored({ body: Buffer.alloc(20_000, 7) }), topicOf('orders')],
  [
    'unicode strings',
    stored({ tag: 'étiquette', keys: ['ключ', '🔑'], properties: { 'naïve': '日本語', emoji: '😀 ok' }, bornHost: 'hôte:1' }),
    topicOf('主题-topic'),
  ],
  ['a FIFO message (message group)', stored({ properties: { __SHARDINGKEY: 'group-7', UNIQ_KEY: 'x', note: 'n' } }), topicOf('fifo', 'FIFO')],
  ['a message group on a NORMAL topic', stored({ properties: { __SHARDINGKEY: '' } }), topicOf('orders')],
  ['a dead letter', stored({ properties: { DLQ_ORIGIN_TOPIC: 'orders', DLQ_ORIGIN_MESSAGE_ID: 'ORIG-1', RECONSUME_TIME: '16', a: 'b' } }), topicOf('%DLQ%g')],
  ['a dead letter without origin id', stored({ properties: { DLQ_ORIGIN_TOPIC: 'orders' } }), topicOf('%DLQ%g')],
  ['a delayed message', stored({ properties: { TIMER_DELIVER_MS: '1764000009999', TIMER_DELAY_MS: '9000' } }), topicOf('later', 'DELAY')],
  ['a negative delivery time', stored({ properties: { TIMER_DELIVER_MS: '-5' } }), topicOf('later', 'DELAY')],
  ['an unreadable delivery time', stored({ properties: { TIMER_DELIVER_MS: 'soon' } }), topicOf('later', 'DELAY')],
  ['a transaction message', stored({ queueId: 0, queueOffset: 0 }), topicOf('tx', 'TRANSACTION')],
  ['a large queue offset and whole-second times', stored({ queueOffset: 2 ** 40 + 5, bornTimestampMs: 0, storeTimestampMs: 1_764_000_000_000 }), topicOf('orders')],
  [
    'everything at once',
    stored({
      tag: 'T',
      keys: ['a'],
      properties: { __SHARDINGKEY: 'g', DLQ_ORIGIN_TOPIC: 'o', DLQ_ORIGIN_MESSAGE_ID: 'id', TIMER_DELIVER_MS: '1764000000001', p: 'q' },
      body: Buffer.from('{"ü":1}'),
    }),
    topicOf('all', 'FIFO'),
  ],
];

const pops: Array<[string, string, number, number]> = [
  ['first attempt', 'handle-1', 1, 30_000],
  ['a redelivery with a long handle and odd milliseconds', 'h'.repeat(300), 17, 12_345],
  ['attempt 200, 12 h invisible', 'ö-handle', 200, 12 * 3_600_000],
];

describe('deliveredFrame (ReceiveMessageResponse{message})', () => {
  for (const [what, message, topic] of cases) {
    for (const [popWhat, receiptHandle, deliveryAttempt, invisibleMs] of pops) {
      it(`${what}, ${popWhat}: the bytes the object path produced`, () => {
        const popped: PoppedMessage = { message, receiptHandle, deliveryAttempt, invisibleUntilMs: 0 };
        const expected = ReceiveMessage.responseSerialize({ message: objectDelivery(popped, topic, invisibleMs) });
        const frame = deliveredFrame(popped, topic, invisibleMs);
        expect(ReceiveMessage.responseDeserialize(frame)).toEqual(ReceiveMessage.responseDeserialize(expected));
        expect(frame.equals(expected)).toBe(true);
      });
    }
  }

  it('writes the body digest as upper-case MD5 hex', () => {
    const popped: PoppedMessage = { message: stored({ body: Buffer.from('abc') }), receiptHandle: 'h', deliveryAttempt: 1, invisibleUntilMs: 0 };
    const decoded = ReceiveMessage.responseDeserialize(deliveredFrame(popped, topicOf('t'), 10_000));
    expect(decoded.message.system_properties.body_digest).toEqual({ type: 'MD5', checksum: '900150983CD24FB0D6963F7D28E17F72' });
  });
});

describe('pulledFrame (PullMessageResponse{message})', () => {
  for (const [what, message, topic] of cases) {
    it(`${what}: the bytes the object path produced`, () => {
      const expected = PullMessage.responseSerialize({ message: pulledMessage(message, topic) });
      const frame = pulledFrame(message, topic);
      expect(PullMessage.responseDeserialize(frame)).toEqual(PullMessage.responseDeserialize(expected));
      expect(frame.equals(expected)).toBe(true);
    });
  }
});

describe('the other stream frames', () => {
  it.each([0, 999, 1_764_000_000_123, -1_500])('deliveryTimestampFrame(%p)', (ms) => {
    expect(deliveryTimestampFrame(ms).equals(ReceiveMessage.responseSerialize({ delivery_timestamp: timestampOf(ms) }))).toBe(true);
  });

  it.each([0, 1, 127, 128, 2 ** 31, 2 ** 53 - 1])('nextOffsetFrame(%p)', (offset) => {
    const frame = nextOffsetFrame(offset);
    expect(frame.equals(PullMessage.responseSerialize({ next_offset: String(offset) }))).toBe(true);
    expect(PullMessage.responseDeserialize(frame)).toEqual({ next_offset: String(offset) });
  });

  it('status frames decode to the status', () => {
    const status: V2Status = { code: 'MESSAGE_NOT_FOUND', message: 'no new message' };
    expect(ReceiveMessage.responseDeserialize(receiveStatusFrame(status))).toEqual({ status });
    expect(PullMessage.responseDeserialize(pullStatusFrame(status))).toEqual({ status });
  });
});

describe('messagingServerDefinition', () => {
  it('passes ReceiveMessage and PullMessage frames through, codes SendMessage and AckMessage by hand and keeps every other method as loaded', () => {
    const definition = messagingServerDefinition();
    const frame = Buffer.from([1, 2, 3]);
    expect(definition.ReceiveMessage.responseSerialize(frame)).toBe(frame);
    expect(definition.PullMessage.responseSerialize(frame)).toBe(frame);
    expect(definition.ReceiveMessage.requestDeserialize).toBe(ReceiveMessage.requestDeserialize);
    expect(definition.SendMessage.requestDeserialize).toBe(decodeSendMessageRequest);
    expect(definition.SendMessage.responseSerialize).toBe(encodeSendMessageResponse);
    expect(definition.AckMessage.requestDeserialize).toBe(decodeAckMessageRequest);
    expect(definition.ChangeInvisibleDuration).toBe(loadMessagingService().service.ChangeInvisibleDuration);
  });
});
