import * as grpc from '@grpc/grpc-js';
import { loadMessagingService } from '@apogee/protocol';

/** A bare apache.rocketmq.v2 client for requests the official client cannot make (batches, bad input). */
export interface TelemetryCommand {
  status?: { code: string; message: string };
  settings?: Record<string, unknown>;
}

/** A Telemetry stream: write commands, await the server's next one, half-close and wait for the end. */
export interface RawTelemetry {
  write(command: object): void;
  next(): Promise<TelemetryCommand>;
  close(): Promise<void>;
}

/** One frame of a ReceiveMessage stream: a status, a message or the delivery timestamp. */
export interface ReceiveFrame {
  status?: { code: string; message: string };
  message?: Record<string, unknown> & { system_properties?: Record<string, unknown> };
  delivery_timestamp?: unknown;
}

export interface RawV2Client {
  call<T = Record<string, unknown>>(method: string, request: object): Promise<T>;
  /** A server-streaming call: every frame until the server ends the stream. */
  stream<F>(method: string, request: object, deadlineMs?: number): Promise<F[]>;
  /** A ReceiveMessage call: every frame until the server ends the stream. */
  receive(request: object, deadlineMs?: number): Promise<ReceiveFrame[]>;
  telemetry(): RawTelemetry;
  close(): void;
}

export function createRawV2Client(address: string, clientId = 'raw-test-client@1@0@0'): RawV2Client {
  const Client = loadMessagingService();
  const client = new Client(address, grpc.credentials.createInsecure());
  const streamFrames = <F>(method: string, request: object, deadlineMs: number): Promise<F[]> =>
    new Promise<F[]>((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-mq-client-id', clientId);
      const frames: F[] = [];
      const call = (client[method] as (r: object, m: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<F>).call(
        client,
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
      );
      call.on('data', (frame: F) => frames.push(frame));
      call.on('error', reject);
      call.on('end', () => resolve(frames));
    });
  return {
    call: <T>(method: string, request: object) =>
      new Promise<T>((resolve, reject) => {
        const metadata = new grpc.Metadata();
        metadata.set('x-mq-client-id', clientId);
        const fn = client[method] as (
          req: object,
          md: grpc.Metadata,
          options: grpc.CallOptions,
          cb: (err: grpc.ServiceError | null, res?: T) => void,
        ) => void;
        fn.call(client, request, metadata, { deadline: Date.now() + 3_000 }, (err, res) => (err ? reject(err) : resolve(res as T)));
      }),
    stream: <F>(method: string, request: object, deadlineMs = 4_000) => streamFrames<F>(method, request, deadlineMs),
    receive: (request, deadlineMs = 4_000) => streamFrames<ReceiveFrame>('ReceiveMessage', request, deadlineMs),
    telemetry: () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-mq-client-id', clientId);
      const stream = (client.Telemetry as (md: grpc.Metadata) => grpc.ClientDuplexStream<object, TelemetryCommand>).call(
        client,
        metadata,
      );
      const received: TelemetryCommand[] = [];
      const waiting: ((command: TelemetryCommand) => void)[] = [];
      stream.on('data', (command: TelemetryCommand) => {
        const waiter = waiting.shift();
        if (waiter) waiter(command);
        else received.push(command);
      });
      const ended = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('error', () => resolve());
      });
      return {
        write: (command) => stream.write(command),
        next: () => {
          const command = received.shift();
          return command ? Promise.resolve(command) : new Promise((resolve) => waiting.push(resolve));
        },
        close: async () => {
          stream.end();
          await ended;
        },
      };
    },
    close: () => client.close(),
  };
}

/** A v2 Message as the official clients build it. */
export function wireMessage(topic: string, messageId: string, body: Buffer, extra: Record<string, unknown> = {}): object {
  const { user_properties, ...system } = extra;
  return {
    topic: { resource_namespace: '', name: topic },
    user_properties: user_properties ?? {},
    system_properties: {
      message_id: messageId,
      message_type: 'NORMAL',
      body_encoding: 'IDENTITY',
      born_host: 'test-host',
      born_timestamp: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 },
      queue_id: 0,
      ...system,
    },
    body,
  };
}
