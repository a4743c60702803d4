import { loadMessagingService } from '@apogee/protocol';
import { decodeAckMessageRequest, encodeAckMessageResponse } from './ack-codec';
import type { WireAckMessageResponse } from './v2-wire';

const { AckMessage } = loadMessagingService().service;

describe('decodeAckMessageRequest', () => {
  const requests: Record<string, object> = {
    'a batch of acks as the clients send it': {
      group: { resource_namespace: '', name: 'g' },
      topic: { resource_namespace: 'ns', name: 'orders' },
      entries: [
        { message_id: 'm1', receipt_handle: 'AQAAAQ-handle_1' },
        { message_id: 'm2', receipt_handle: 'ü-handle', lite_topic: 'lt' },
      ],
    },
    'nothing set': {},
    'an entry with nothing set': { entries: [{}] },
  };
  for (const [name, request] of Object.entries(requests)) {
    it(`decodes ${name} to the object proto-loader makes`, () => {
      const bytes = AckMessage.requestSerialize(request);
      expect(decodeAckMessageRequest(bytes)).toEqual(AckMessage.requestDeserialize(bytes));
    });
  }
});

describe('encodeAckMessageResponse', () => {
  const responses: Record<string, WireAckMessageResponse> = {
    'all acked': {
      status: { code: 'OK', message: 'OK' },
      entries: [
        { message_id: 'm1', receipt_handle: 'h1', status: { code: 'OK', message: 'OK' } },
        { message_id: 'm2', receipt_handle: 'h2', status: { code: 'OK', message: 'OK' } },
      ],
    },
    'a stale handle among them': {
      status: { code: 'MULTIPLE_RESULTS', message: '1 of 2 failed' },
      entries: [
        { message_id: 'm1', receipt_handle: 'h1', status: { code: 'OK', message: 'OK' } },
        { message_id: 'm2', receipt_handle: 'h2', status: { code: 'INVALID_RECEIPT_HANDLE', message: 'superseded — ü' } },
      ],
    },
  };
  for (const [name, response] of Object.entries(responses)) {
    it(`writes the bytes proto-loader writes: ${name}`, () => {
      expect(encodeAckMessageResponse(response).equals(AckMessage.responseSerialize(response))).toBe(true);
    });
  }
});
