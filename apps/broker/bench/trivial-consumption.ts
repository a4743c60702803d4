/**
 * The trivial server's consumption side (trivial-server.ts `--keep-messages`, the ceiling for parts
 * c and d): SendMessage keeps each message as a ready `ReceiveMessageResponse{message}` frame (its
 * message id doubles as the receipt handle; store timestamp = arrival) in one in-memory FIFO per
 * topic; ReceiveMessage writes up to batch_size of them between the status and delivery-timestamp
 * frames, long-polling while the topic is empty; AckMessage answers OK for every entry. No
 * storage, no POP state, no redelivery, no filter: what grpc-js and the wire cost for the same
 * call shapes, with the frames built before they are asked for.
 */
import type * as grpc from '@grpc/grpc-js';
import { Code, Types } from '@apogee/bench';

type Int64 = number | string | { toNumber(): number };

interface DecodedMessage {
  topic?: { name?: string };
  body?: Uint8Array;
  system_properties?: { message_id?: string };
}

interface DecodedReceive {
  message_queue?: { topic?: { name?: string } };
  batch_size?: number;
  long_polling_timeout?: { seconds?: Int64; nanos?: number };
}

interface DecodedAck {
  entries: { message_id?: string; receipt_handle?: string }[];
}

const OK = { code: Code.OK, message: 'OK' };
const OK_FRAME = Buffer.from(Types.ReceiveMessageResponse.encode({ status: OK }).finish());
const EMPTY_FRAME = Buffer.from(Types.ReceiveMessageResponse.encode({ status: { code: Code.MESSAGE_NOT_FOUND, message: 'no new message' } }).finish());
/** Compact a topic's FIFO once this many frames ahead of its head were taken. */
const COMPACT_AFTER = 65_536;

const numberOf = (v: Int64 | undefined): number => (v === undefined ? 0 : typeof v === 'object' ? v.toNumber() : Number(v));

function timestampOf(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

class TopicFifo {
  frames: Buffer[] = [];
  head = 0;
  readonly waiters = new Set<() => void>();

  take(max: number): Buffer[] {
    const end = Math.min(this.frames.length, this.head + max);
    const taken = this.frames.slice(this.head, end);
    this.head = end;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}

export class MemoryTopics {
  private readonly topics = new Map<string, TopicFifo>();

  /** Keeps the messages of one SendMessage as delivery frames; wakes the topics' long polls. */
  keep(messages: readonly DecodedMessage[]): void {
    const now = Date.now();
    const touched = new Set<TopicFifo>();
    for (const m of messages) {
      const name = m.topic?.name ?? '';
      const id = m.system_properties?.message_id ?? '';
      const frame = Types.ReceiveMessageResponse.encode({
        message: { topic: { name }, system_properties: { message_id: id, receipt_handle: id, store_timestamp: timestampOf(now) }, body: m.body },
      }).finish();
      const fifo = this.fifo(name);
      fifo.frames.push(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      touched.add(fifo);
    }
    for (const fifo of touched) {
      for (const wake of fifo.waiters) wake();
      fifo.waiters.clear();
    }
  }

  /** ReceiveMessage: status, up to batch_size message frames, delivery timestamp, end. */
  async receive(call: grpc.ServerWritableStream<DecodedReceive, Buffer>): Promise<void> {
    const fifo = this.fifo(call.request.message_queue?.topic?.name ?? '');
    const batch = Math.max(1, call.request.batch_size ?? 1);
    const pollMs = numberOf(call.request.long_polling_timeout?.seconds) * 1000 + (call.request.long_polling_timeout?.nanos ?? 0) / 1e6;
    const until = Date.now() + pollMs;
    let frames = fifo.take(batch);
    while (frames.length === 0 && !call.cancelled && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - Date.now());
        fifo.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (!call.cancelled) frames = fifo.take(batch);
    }
    if (call.cancelled) return;
    call.write(frames.length > 0 ? OK_FRAME : EMPTY_FRAME);
    for (const frame of frames) call.write(frame);
    call.write(Buffer.from(Types.ReceiveMessageResponse.encode({ delivery_timestamp: timestampOf(Date.now()) }).finish()));
    call.end();
  }

  /** AckMessage: OK for every entry. */
  ack(request: DecodedAck): object {
    return { status: OK, entries: request.entries.map((e) => ({ status: OK, message_id: e.message_id ?? '', receipt_handle: e.receipt_handle ?? '' })) };
  }

  private fifo(topic: string): TopicFifo {
    let fifo = this.topics.get(topic);
    if (fifo === undefined) {
      fifo = new TopicFifo();
      this.topics.set(topic, fifo);
    }
    return fifo;
  }
}

/** The service definition's overrides for ReceiveMessage and AckMessage: protobufjs both ways, frames as they are. */
export function consumptionMethods(methods: grpc.ServiceDefinition): Partial<grpc.ServiceDefinition> {
  return {
    ReceiveMessage: { ...methods.ReceiveMessage, requestDeserialize: (b: Buffer) => Types.ReceiveMessageRequest.decode(b), responseSerialize: (frame: Buffer) => frame },
    AckMessage: {
      ...methods.AckMessage,
      requestDeserialize: (b: Buffer) => Types.AckMessageRequest.decode(b),
      responseSerialize: (r: object) => Types.AckMessageResponse.encode(r).finish() as Buffer,
    },
  };
}

/** Handlers for ReceiveMessage and AckMessage over `topics`. */
export function consumptionHandlers(topics: MemoryTopics): grpc.UntypedServiceImplementation {
  return {
    ReceiveMessage: (call: grpc.ServerWritableStream<DecodedReceive, Buffer>) => void topics.receive(call),
    AckMessage: (call: grpc.ServerUnaryCall<DecodedAck, object>, callback: grpc.sendUnaryData<object>) => callback(null, topics.ack(call.request)),
  };
}
