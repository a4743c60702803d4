/**
 * Our own SendMessage load generator (part b, and the backlog pre-fill of part c): closed loop,
 * `channels` separate connections × `inflight` requests each, every request a SendMessageRequest
 * of `batch` NORMAL messages with `bodyBytes` bodies.
 *
 * To keep the generator cheap, the request is encoded once with the project's proto-loader
 * definition; each call sends a copy with the message ids patched in place (unique ids per
 * message, same byte length). Responses are decoded with protobufjs (no toObject) and every
 * entry's status is checked.
 */
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { benchMetadata, Code, methods, SERVICE_PATH, Types, wireMessage } from './wire';

export interface SendLoadOptions {
  topic: string;
  batch: number;
  bodyBytes: number;
  /** Requests kept in flight per channel. */
  inflight: number;
  /** Measure for this long after `warmupMs` (closed loop until then)... */
  durationMs?: number;
  warmupMs?: number;
  /** ...or send exactly this many messages (rounded up to whole batches), timed from the start. */
  totalMessages?: number;
  /** CPU seconds of the server so far, sampled around the measured window. */
  serverCpu?: () => number;
}

export interface SendLoadResult {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  failedRequests: number;
  firstError?: string;
  serverCpuSeconds?: number;
  /** CPU seconds of this (the generator's) process in the window. */
  clientCpuSeconds?: number;
}

const ID_FIELD = 22;

/** The encoded request and where each message id's counter field is. */
function template(topic: string, batch: number, bodyBytes: number): { bytes: Buffer; offsets: number[] } {
  const tag = randomBytes(4).toString('hex');
  const body = randomBytes(bodyBytes);
  const ids = Array.from({ length: batch }, (_, slot) => `${tag}${slot.toString(16).padStart(2, '0')}${'0'.repeat(ID_FIELD)}`);
  const bytes = methods.SendMessage.requestSerialize({ messages: ids.map((id) => wireMessage(topic, id, body)) });
  const offsets = ids.map((id) => bytes.indexOf(Buffer.from(id, 'latin1')) + tag.length + 2);
  if (offsets.some((o) => o < 10)) throw new Error('message id not found in the encoded request');
  return { bytes, offsets };
}

const identity = (b: Buffer): Buffer => b;

export async function runSendLoad(clients: grpc.Client[], opts: SendLoadOptions): Promise<SendLoadResult> {
  const { bytes, offsets } = template(opts.topic, opts.batch, opts.bodyBytes);
  let counter = 0;
  let acked = 0;
  let issued = 0;
  let failedRequests = 0;
  let firstError: string | undefined;
  let stopped = false;
  const limit = opts.totalMessages;

  const nextRequest = (): Buffer => {
    const copy = Buffer.from(bytes);
    const field = (counter++).toString(16).padStart(ID_FIELD, '0');
    for (const offset of offsets) copy.write(field, offset, 'latin1');
    return copy;
  };
  const fail = (why: string): void => {
    failedRequests++;
    firstError ??= why;
    if (limit !== undefined && failedRequests >= 100) stopped = true; // a backlog fill that cannot succeed
  };

  const worker = (client: grpc.Client): Promise<void> =>
    new Promise((done) => {
      const sendOne = (): void => {
        if (stopped || (limit !== undefined && issued >= limit)) return done();
        issued += opts.batch;
        client.makeUnaryRequest(SERVICE_PATH + 'SendMessage', identity, identity, nextRequest(), benchMetadata(), { deadline: Date.now() + 30_000 }, (err, res) => {
          if (err) fail(`${err.code} ${err.details}`);
          else {
            const response = Types.SendMessageResponse.decode(res!) as unknown as { status?: { code: number; message: string }; entries: { status?: { code: number; message: string } }[] };
            const ok = response.entries.filter((e) => e.status?.code === Code.OK).length;
            acked += ok;
            if (ok !== opts.batch) fail(`status ${response.status?.code} ${response.status?.message}, ${ok}/${opts.batch} entries OK`);
          }
          if (err && limit !== undefined) issued -= opts.batch; // resend what failed when filling a backlog
          sendOne();
        });
      };
      sendOne();
    });

  const started = performance.now();
  const workers = clients.flatMap((client) => Array.from({ length: opts.inflight }, () => worker(client)));
  if (limit !== undefined) {
    await Promise.all(workers);
    const seconds = (performance.now() - started) / 1000;
    return { messages: acked, seconds, msgsPerSec: acked / seconds, failedRequests, firstError };
  }
  await new Promise((r) => setTimeout(r, opts.warmupMs ?? 0));
  const [t0, n0, c0, u0] = [performance.now(), acked, opts.serverCpu?.(), process.cpuUsage()];
  await new Promise((r) => setTimeout(r, opts.durationMs ?? 10_000));
  const [t1, n1, c1, u1] = [performance.now(), acked, opts.serverCpu?.(), process.cpuUsage(u0)];
  stopped = true;
  await Promise.all(workers);
  const seconds = (t1 - t0) / 1000;
  return {
    messages: n1 - n0,
    seconds,
    msgsPerSec: (n1 - n0) / seconds,
    failedRequests,
    firstError,
    serverCpuSeconds: c0 === undefined || c1 === undefined ? undefined : c1 - c0,
    clientCpuSeconds: (u1.user + u1.system) / 1e6,
  };
}
