/**
 * apache.rocketmq.v2 on the benchmark's side of the wire, from the protos of the installed
 * official client (never retyped): the project's proto-loader definition (loadMessagingService)
 * encodes requests, and protobufjs types loaded from the same files (keepCase) decode hot
 * responses cheaply (no toObject), so the load generators spend little CPU per message.
 *
 * Raw channels: `rawChannels(address, n)` opens n grpc-js clients with distinct channel options
 * (and a local subchannel pool), i.e. n separate TCP connections.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { loadMessagingService, rocketMqProtoDir } from '@apogee/protocol';

export const SERVICE_PATH = '/apache.rocketmq.v2.MessagingService/';
export const CLIENT_ID = 'apogee-bench@1@0@0';

const protoDir = rocketMqProtoDir();
export const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') || path.isAbsolute(target) ? target : path.join(protoDir, target));
root.loadSync(path.join(protoDir, 'apache/rocketmq/v2/service.proto'), { keepCase: true });

export const Types = {
  SendMessageRequest: root.lookupType('apache.rocketmq.v2.SendMessageRequest'),
  SendMessageResponse: root.lookupType('apache.rocketmq.v2.SendMessageResponse'),
  ReceiveMessageRequest: root.lookupType('apache.rocketmq.v2.ReceiveMessageRequest'),
  ReceiveMessageResponse: root.lookupType('apache.rocketmq.v2.ReceiveMessageResponse'),
  AckMessageRequest: root.lookupType('apache.rocketmq.v2.AckMessageRequest'),
  AckMessageResponse: root.lookupType('apache.rocketmq.v2.AckMessageResponse'),
};
export const Code = root.lookupEnum('apache.rocketmq.v2.Code').values;

/** The proto-loader method definitions (requestSerialize etc.) of MessagingService. */
export const methods = loadMessagingService().service;

export function rawChannels(address: string, count: number): grpc.Client[] {
  return Array.from(
    { length: count },
    (_, i) =>
      new grpc.Client(address, grpc.credentials.createInsecure(), {
        'apogee.bench.channel': i, // distinct options: distinct subchannels, so distinct connections
        'grpc.use_local_subchannel_pool': 1,
        'grpc-node.flow_control_window': 1 << 20,
        'grpc.max_receive_message_length': 64 << 20,
      }),
  );
}

export function benchMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('x-mq-client-id', CLIENT_ID);
  return metadata;
}

/** A v2 Message in proto-loader's object form (snake_case, enums by name). */
export function wireMessage(topic: string, messageId: string, body: Buffer): object {
  return {
    topic: { resource_namespace: '', name: topic },
    user_properties: {},
    system_properties: {
      message_id: messageId,
      message_type: 'NORMAL',
      body_encoding: 'IDENTITY',
      born_host: 'bench-host',
      born_timestamp: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 },
      queue_id: 0,
    },
    body,
  };
}

export function durationOf(ms: number): object {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** A unary call with proto-loader objects both ways (control-path calls: ack, route). */
export function unary<T>(client: grpc.Client, method: string, request: object, timeoutMs = 10_000): Promise<T> {
  const def = methods[method];
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      SERVICE_PATH + method,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      benchMetadata(),
      { deadline: Date.now() + timeoutMs },
      (err, res) => (err ? reject(err) : resolve(res as T)),
    ),
  );
}
