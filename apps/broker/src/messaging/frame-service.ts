/**
 * MessagingService as this broker serves it: the proto-loader definition (loadMessagingService),
 * except that ReceiveMessage and PullMessage write pre-encoded frames — Buffers passed through an
 * identity responseSerialize (NODE-PERFORMANCE.md §5b, §7). Every write of those two streams must
 * be a Buffer (their handlers are typed so): message frames and delivery_timestamp / next_offset
 * come from delivered-frame.ts, the one status frame per call from proto-loader's own serializer.
 * SendMessage and AckMessage requests are decoded and their answers encoded by hand
 * (send-codec.ts, ack-codec.ts), the same objects and bytes as proto-loader's. Other requests are still decoded by proto-loader; clients
 * (tests, tools) keep loadMessagingService.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadMessagingService, type V2Status } from '@apogee/protocol';
import { decodeAckMessageRequest, encodeAckMessageResponse } from './ack-codec';
import { decodeSendMessageRequest, encodeSendMessageResponse } from './send-codec';

let cached: ServiceDefinition | undefined;

const identity = (frame: Buffer): Buffer => frame;

/** The definition the broker registers; built once. */
export function messagingServerDefinition(): ServiceDefinition {
  if (cached !== undefined) return cached;
  const service = loadMessagingService().service;
  cached = {
    ...service,
    ReceiveMessage: { ...service.ReceiveMessage, responseSerialize: identity },
    PullMessage: { ...service.PullMessage, responseSerialize: identity },
    SendMessage: { ...service.SendMessage, requestDeserialize: decodeSendMessageRequest, responseSerialize: encodeSendMessageResponse },
    AckMessage: { ...service.AckMessage, requestDeserialize: decodeAckMessageRequest, responseSerialize: encodeAckMessageResponse },
  };
  return cached;
}

/** `ReceiveMessageResponse{status}`. */
export function receiveStatusFrame(status: V2Status): Buffer {
  return loadMessagingService().service.ReceiveMessage.responseSerialize({ status });
}

/** `PullMessageResponse{status}`. */
export function pullStatusFrame(status: V2Status): Buffer {
  return loadMessagingService().service.PullMessage.responseSerialize({ status });
}
