/**
 * Consumption load (parts c and d) with raw ReceiveMessage / AckMessage calls, as a
 * SimpleConsumer makes them (doc §3.9, §3.10): `receiveOnce` is one long-polling
 * ReceiveMessage call (frames decoded with protobufs, no toObject); `drain` runs several
 * receivers until a backlog is consumed, acking every received message; `measureLatency` sends
 * at a steady rate on an open-loop schedule (scheduled time in the body) while long-polling
 * receivers record schedule → receipt latency.
 */
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { benchMetadata, Code, durationOf, methods, percentile, SERVICE_PATH, sleep, Types, unary, wireMessage } from '@apogee/bench';

export interface Delivered {
  message_id: string;
  receipt_handle: string;
  /** When the broker stored the message (epoch ms). */
  storedAtMs: number;
  body: Buffer;
}

interface Timestamp {
  seconds: number | string | { toNumber(): number };
  nanos: number;
}

interface Frame {
  status?: { code: number; message: string };
  message?: { body: Buffer; system_properties: { message_id: string; receipt_handle: string; store_timestamp?: Timestamp } };
}

export function receiveOnce(
  client: grpc.Client,
  group: string,
  topic: string,
  batch: number,
  pollMs: number,
  onMessage?: (m: Delivered) => void,
): Promise<{ code: number; message: string; messages: Delivered[] }> {
  const request = {
    group: { resource_namespace: '', name: group },
    message_queue: { topic: { resource_namespace: '', name: topic }, id: 0, permission: 'READ_WRITE', broker: { name: 'broker-a', id: 0 } },
    filter_expression: { type: 'TAG', expression: '*' },
    batch_size: batch,
    invisible_duration: durationOf(60_000),
    auto_renew: false,
    long_polling_timeout: durationOf(pollMs),
  };
  return new Promise((resolve, reject) => {
    const messages: Delivered[] = [];
    let status = { code: -1, message: 'no status frame' };
    const call = client.makeServerStreamRequest(
      SERVICE_PATH + 'ReceiveMessage',
      methods.ReceiveMessage.requestSerialize,
      (b: Buffer) => Types.ReceiveMessageResponse.decode(b) as unknown as Frame,
      request,
      benchMetadata(),
      { deadline: Date.now() + pollMs + 5_000 },
    );
    call.on('data', (frame: Frame) => {
      if (frame.status) status = frame.status;
      if (frame.message) {
        const { message_id, receipt_handle, store_timestamp } = frame.message.system_properties;
        const m = { message_id, receipt_handle, storedAtMs: epochMsOf(store_timestamp), body: frame.message.body };
        messages.push(m);
        onMessage?.(m);
      }
    });
    call.on('error', reject);
    call.on('end', () => resolve({ ...status, messages }));
  });
}

function epochMsOf(t: Timestamp | undefined): number {
  if (t === undefined) return NaN;
  const seconds = typeof t.seconds === 'object' ? t.seconds.toNumber() : Number(t.seconds);
  return seconds * 1000 + t.nanos / 1e6;
}

/** One AckMessage for `messages`, encoded and decoded with protobufjs (no proto-loader objects); resolves with the entries acked OK. */
function ack(client: grpc.Client, group: string, topic: string, messages: Delivered[]): Promise<number> {
  const request = {
    group: { resource_namespace: '', name: group },
    topic: { resource_namespace: '', name: topic },
    entries: messages.map((m) => ({ message_id: m.message_id, receipt_handle: m.receipt_handle })),
  };
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      SERVICE_PATH + 'AckMessage',
      (r: object) => Buffer.from(Types.AckMessageRequest.encode(r).finish()),
      (b: Buffer) => Types.AckMessageResponse.decode(b) as unknown as { entries: { status?: { code?: number } }[] },
      request,
      benchMetadata(),
      { deadline: Date.now() + 10_000 },
      (err, response) => (err || response === undefined ? reject(err ?? new Error('no AckMessage response')) : resolve(response.entries.filter((e) => (e.status?.code ?? 0) === Code.OK).length)),
    ),
  );
}

export interface DrainResult {
  received: number;
  acked: number;
  seconds: number;
  msgsPerSec: number;
  note?: string;
}

/**
 * `clients.length` receivers drain `target` messages of `topic` (batch `batch`); each received
 * batch is acked (one AckMessage with all its entries, or one per message with `ackEach`) while
 * the receiver asks for the next. Timed until the last ack answered.
 */
export async function drain(clients: grpc.Client[], group: string, topic: string, target: number, batch: number, ackEach: boolean): Promise<DrainResult> {
  let received = 0;
  let acked = 0;
  let note: string | undefined;
  const acks: Promise<void>[] = [];
  const started = performance.now();
  const receiver = async (client: grpc.Client): Promise<void> => {
    let empties = 0;
    while (received < target && empties < 3) {
      const result = await receiveOnce(client, group, topic, batch, 1_000);
      if (result.code !== Code.OK) {
        if (result.code !== Code.MESSAGE_NOT_FOUND) note ??= `ReceiveMessage status ${result.code} ${result.message}`;
        empties++;
        continue;
      }
      empties = 0;
      received += result.messages.length;
      const batches = ackEach ? result.messages.map((m) => [m]) : [result.messages];
      for (const b of batches) acks.push(ack(client, group, topic, b).then((n) => void (acked += n), (err: Error) => void (note ??= `AckMessage: ${err.message}`)));
    }
  };
  await Promise.all(clients.map(receiver));
  await Promise.all(acks);
  const seconds = (performance.now() - started) / 1000;
  if (received < target) note ??= `only ${received} of ${target} messages received`;
  return { received, acked, seconds, msgsPerSec: received / seconds, note };
}

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LatencyResult extends Percentiles {
  sent: number;
  received: number;
  /** Schedule → the broker's store timestamp: the sender's lateness, the network and the send path. */
  sendLeg: Percentiles;
  /** Store timestamp → arrival of the message frame: dispatch, long-poll wake-up, POP and the stream. */
  receiveLeg: Percentiles;
  /** ReceiveMessage calls that returned messages, and the messages per such call. */
  receiveCalls: number;
  messagesPerCall: number;
  note?: string;
}

function percentilesOf(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1] : NaN, // Infinity: some never arrived
  };
}

const MAGIC = 0x41504f47; // 'APOG' at body offset 8: a latency-probe message

/**
 * Open loop: message k is due at start + k/rate ms and carries that time; it is sent when due
 * (late sends keep their schedule time, so a stalled sender counts against latency). The messages
 * falling due in one timer tick (~1 ms, about 5 at 5,000 msg/s) go in one SendMessage of at most
 * `sendBatch` (1: one request per message, as the official producer sends). Receivers
 * long-poll meanwhile. Latencies are from the schedule time to the arrival of the message frame;
 * messages of the measured window that never arrive (5 s after the last send) count as Infinity.
 * The broker's store timestamp splits each latency into a send leg and a receive leg (the two
 * processes share the machine's clock; epoch ms).
 */
export async function measureLatency(
  sendClient: grpc.Client,
  receivers: grpc.Client[],
  opts: { topic: string; group: string; rate: number; durationMs: number; warmupMs: number; bodyBytes: number; sendBatch: number },
): Promise<LatencyResult> {
  const body = randomBytes(opts.bodyBytes);
  const tag = randomBytes(4).toString('hex');
  let sendErrors = 0;
  let firstError: string | undefined;
  /** One SendMessage with the messages `due` (schedule time, sequence number). */
  const send = (due: [number, number][]): void => {
    const messages = due.map(([scheduled, n]) => {
      const b = Buffer.from(body);
      b.writeDoubleLE(scheduled, 0);
      b.writeUInt32LE(MAGIC, 8);
      return wireMessage(opts.topic, `${tag}${n.toString(16).padStart(24, '0')}`, b);
    });
    sendClient.makeUnaryRequest(
      SERVICE_PATH + 'SendMessage',
      methods.SendMessage.requestSerialize,
      methods.SendMessage.responseDeserialize,
      { messages },
      benchMetadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) => {
        const code = (res as { status?: { code: string } } | undefined)?.status?.code;
        if (err || code !== 'OK') {
          sendErrors += due.length;
          firstError ??= err ? err.message : `status ${code}`;
        }
      },
    );
  };
  // The topic is auto-created by its first send: prime it before the receivers poll it.
  await unary(sendClient, 'SendMessage', { messages: [wireMessage(opts.topic, `${tag}prime`, body)] });

  const total = Math.round((opts.rate * (opts.durationMs + opts.warmupMs)) / 1000);
  const latencies: number[] = [];
  const sendLeg: number[] = [];
  const receiveLeg: number[] = [];
  let receiveCalls = 0;
  let received = 0;
  let receiving = true;
  const start = performance.now() + 50;
  const measureFrom = start + opts.warmupMs;
  const onMessage = (m: Delivered): void => {
    if (m.body.length < 12 || m.body.readUInt32LE(8) !== MAGIC) return;
    received++;
    const scheduled = m.body.readDoubleLE(0);
    if (scheduled < measureFrom) return;
    const now = performance.now();
    latencies.push(now - scheduled);
    const storedAt = m.storedAtMs - performance.timeOrigin;
    sendLeg.push(storedAt - scheduled);
    receiveLeg.push(now - storedAt);
  };
  const pending: Promise<void>[] = [];
  const receiver = async (client: grpc.Client): Promise<void> => {
    while (receiving) {
      const result = await receiveOnce(client, opts.group, opts.topic, 32, 2_000, onMessage);
      if (result.messages.length > 0) receiveCalls++;
      if (result.messages.length > 0) pending.push(ack(client, opts.group, opts.topic, result.messages).then(() => undefined, () => undefined));
    }
  };
  const receiving$ = receivers.map(receiver);

  let k = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = performance.now();
      let due: [number, number][] = [];
      while (k < total && start + (k * 1000) / opts.rate <= now) {
        due.push([start + (k * 1000) / opts.rate, k++]);
        if (due.length === opts.sendBatch) {
          send(due);
          due = [];
        }
      }
      if (due.length > 0) send(due);
      if (k < total) setTimeout(tick, 1);
      else done();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  const deadline = performance.now() + 5_000;
  while (received < total && performance.now() < deadline) await sleep(20);
  receiving = false;
  await Promise.all(receiving$);
  await Promise.all(pending);

  // Messages of the measured window never received count as infinitely late.
  const inWindow = total - Math.ceil((opts.rate * opts.warmupMs) / 1000);
  while (latencies.length < inWindow) latencies.push(Infinity);
  const notes = [sendErrors > 0 ? `${sendErrors} send errors (${firstError})` : '', received < total ? `${total - received} messages not received within 5 s` : '']
    .filter(Boolean)
    .join('; ');
  return {
    sent: total,
    received,
    ...percentilesOf(latencies),
    sendLeg: percentilesOf(sendLeg),
    receiveLeg: percentilesOf(receiveLeg),
    receiveCalls,
    messagesPerCall: received / Math.max(1, receiveCalls),
    note: notes || undefined,
  };
}
