/**
 * The trivial grpc-js MessagingService the broker is compared against (run as a child process by
 * broker.bench.ts): SendMessage answers one OK entry per message without storing anything, and
 * just enough of QueryRoute, Telemetry (Settings answer), Heartbeat and NotifyClientTermination
 * for the official producer to start and stop. It is a ceiling: requests are decoded with
 * protobufjs `Type.decode` (no toObject) and answers encoded with protobufjs directly.
 * With `--keep-messages` it also keeps what it is sent in memory and serves ReceiveMessage and
 * AckMessage from there (trivial-consumption.ts): the ceiling for parts c and d. Parts a and b run
 * without it, so their ceiling keeps nothing.
 * Prints `TRIVIAL_LISTENING host:port` once bound.
 */
import * as grpc from '@grpc/grpc-js';
import { Code, methods, Types } from '@apogee/bench';
import { consumptionHandlers, consumptionMethods, MemoryTopics } from './trivial-consumption';

const OK = { code: 'OK', message: 'OK' };
let port = 0;
let offset = 0;
const kept = process.argv.includes('--keep-messages') ? new MemoryTopics() : undefined;

interface DecodedSend {
  messages: { topic?: { name?: string }; body?: Uint8Array; system_properties?: { message_id?: string } }[];
}

const service: grpc.ServiceDefinition = {
  ...methods,
  SendMessage: {
    ...methods.SendMessage,
    requestDeserialize: (b: Buffer) => Types.SendMessageRequest.decode(b),
    responseSerialize: (r: object) => Types.SendMessageResponse.encode(r).finish() as Buffer,
  },
  ...(kept ? consumptionMethods(methods) : {}),
};

const handlers: grpc.UntypedServiceImplementation = {
  SendMessage: (call: grpc.ServerUnaryCall<DecodedSend, object>, callback: grpc.sendUnaryData<object>) => {
    const ok = { code: Code.OK, message: 'OK' };
    const entries = call.request.messages.map((m) => ({ status: ok, message_id: m.system_properties?.message_id ?? '', transaction_id: '', offset: offset++ }));
    kept?.keep(call.request.messages);
    callback(null, { status: ok, entries });
  },
  QueryRoute: (call: grpc.ServerUnaryCall<{ topic: object }, object>, callback: grpc.sendUnaryData<object>) => {
    const broker = { name: 'trivial', id: 0, endpoints: { scheme: 'IPv4', addresses: [{ host: '127.0.0.1', port }] } };
    const queue = { topic: call.request.topic, id: 0, permission: 'READ_WRITE', broker, accept_message_types: ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'] };
    callback(null, { status: OK, message_queues: [queue] });
  },
  Heartbeat: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, { status: OK }),
  NotifyClientTermination: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, { status: OK }),
  Telemetry: (call: grpc.ServerDuplexStream<{ settings?: Record<string, unknown> & { publishing?: { topics?: object[] } } }, object>) => {
    call.on('data', (command) => {
      const s = command.settings;
      if (s === undefined) return;
      const backoff = { max_attempts: 3, exponential_backoff: { initial: { seconds: '1', nanos: 0 }, max: { seconds: '10', nanos: 0 }, multiplier: 2 } };
      call.write({
        status: OK,
        settings: {
          client_type: s.client_type,
          access_point: s.access_point,
          request_timeout: s.request_timeout,
          user_agent: s.user_agent,
          metric: { on: false },
          backoff_policy: backoff,
          publishing: { topics: s.publishing?.topics ?? [], max_body_size: 4 << 20, validate_message_type: true },
        },
      });
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  },
  ...(kept ? consumptionHandlers(kept) : {}),
};

const server = new grpc.Server();
server.addService(service, handlers);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) throw err;
  port = bound;
  process.stdout.write(`TRIVIAL_LISTENING 127.0.0.1:${bound}\n`);
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});
