/**
 * Feeds the traffic metrics (metrics.ts) from the messaging RPCs without touching their handlers:
 * `instrumentMessaging` wraps SendMessage, ReceiveMessage, PullMessage and AckMessage of the
 * service registration. Per call it reads the clock twice and per message it increments
 * counters, nothing more: topics come from the decoded request, delivered messages are
 * recognised by the first byte of their pre-encoded frame (field 2, `message`, of
 * ReceiveMessageResponse and PullMessageResponse), sizes from the bytes at hand.
 * `startFlushProbe` observes the duration of every commit-log fdatasync round.
 */
import { performance } from 'node:perf_hooks';
import type { handleServerStreamingCall, handleUnaryCall, sendUnaryData, ServerWritableStream } from '@grpc/grpc-js';
import type { GrpcServiceRegistration } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import type { BrokerStateMetrics, TrafficMetrics } from './metrics';

/** The label of a request whose topic this broker does not have (keeps the label set bounded). */
export const UNKNOWN_TOPIC = '_unknown';
/** The tag byte of `message` (field 2, length-delimited) opening a delivered-message frame. */
const MESSAGE_FRAME_TAG = 0x12;

type Status = { code?: string };
type Resource = { name?: string };
type SendRequest = { messages?: { topic?: Resource; body?: Buffer }[] };
type SendResponse = { status?: Status; entries?: { status?: Status }[] };
type StreamRequest = { message_queue?: { topic?: Resource } };
type AckRequest = { topic?: Resource };
type AckResponse = { status?: Status; entries?: { status?: Status }[] };

const seconds = (since: number): number => (performance.now() - since) / 1_000;

/** The registration with its message-carrying RPCs counted and timed; `knowsTopic` bounds the topic label. */
export function instrumentMessaging(
  registration: GrpcServiceRegistration,
  metrics: TrafficMetrics,
  knowsTopic: (topic: string) => boolean,
): GrpcServiceRegistration {
  const label = (topic: string | undefined): { topic: string } => ({
    topic: topic !== undefined && topic !== '' && knowsTopic(topic) ? topic : UNKNOWN_TOPIC,
  });
  const impl = registration.implementation;
  const wrapped = { ...impl };
  const send = impl.SendMessage as handleUnaryCall<SendRequest, SendResponse> | undefined;
  if (send !== undefined) {
    wrapped.SendMessage = ((call, callback) => {
      const started = performance.now();
      const done: sendUnaryData<SendResponse> = (err, response, ...rest) => {
        const messages = call.request.messages ?? [];
        const topic = label(messages[0]?.topic?.name);
        metrics.sendLatency.observe(topic, seconds(started));
        // one request carries one topic (the handler refuses mixed ones): one increment per request
        const entries = response?.entries ?? [];
        let count = 0;
        let bytes = 0;
        for (let i = 0; i < entries.length; i++) {
          if (entries[i].status?.code !== 'OK') continue;
          count += 1;
          bytes += messages[i]?.body?.length ?? 0;
        }
        if (count > 0) {
          metrics.messagesIn.inc(topic, count);
          metrics.bytesIn.inc(topic, bytes);
        }
        callback(err, response, ...rest);
      };
      send(call, done);
    }) as handleUnaryCall<SendRequest, SendResponse>;
  }
  for (const method of ['ReceiveMessage', 'PullMessage'] as const) {
    const stream = impl[method] as handleServerStreamingCall<StreamRequest, Buffer> | undefined;
    if (stream === undefined) continue;
    wrapped[method] = ((call: ServerWritableStream<StreamRequest, Buffer>) => {
      const started = performance.now();
      let topic: { topic: string } | undefined;
      const write = call.write.bind(call) as (chunk: Buffer, ...rest: unknown[]) => boolean;
      (call as { write: (chunk: Buffer, ...rest: unknown[]) => boolean }).write = (chunk, ...rest) => {
        if (Buffer.isBuffer(chunk) && chunk[0] === MESSAGE_FRAME_TAG) {
          if (topic === undefined) {
            topic = label(call.request.message_queue?.topic?.name);
            metrics.receiveLatency.observe(topic, seconds(started));
          }
          metrics.messagesOut.inc(topic);
          metrics.bytesOut.inc(topic, chunk.length);
        }
        return write(chunk, ...rest);
      };
      stream(call);
    }) as handleServerStreamingCall<StreamRequest, Buffer>;
  }
  const ack = impl.AckMessage as handleUnaryCall<AckRequest, AckResponse> | undefined;
  if (ack !== undefined) {
    wrapped.AckMessage = ((call, callback) => {
      ack(call, (err, response, ...rest) => {
        const acked = (response?.entries ?? []).filter((e) => e.status?.code === 'OK').length;
        if (acked > 0) metrics.acks.inc(label(call.request.topic?.name), acked);
        callback(err, response, ...rest);
      });
    }) as handleUnaryCall<AckRequest, AckResponse>;
  }
  return { ...registration, implementation: wrapped };
}

/** Observes every commit-log fdatasync round (MessageStore.onSync); returns the stop function. */
export function startFlushProbe(store: Pick<MessageStore, 'onSync'>, flushLatency: BrokerStateMetrics['flushLatency']): () => void {
  return store.onSync((durationMs) => flushLatency.observe(durationMs / 1_000));
}
