/**
 * Our own SendMessage load generator (part b, and the backlog pre-fill of part c): closed loop,
 * `channels` separate connections × `inflight` requests each, every request a SendMessageRequest
 * of `batch` NORMAL messages with `bodyBytes` bodies.
 *
 * To keep the generator cheap, the request is encoded once with the project's proto-loader
 * definition; each call sends a copy with the message ids patched in place (unique ids per
 * message, same byte length). Responses are decoded with protobufjs (no toObject) and every
 * entry's status is checked. With `keys`, every message also carries one key, keyOf(its id),
 * patched the same way (unique per message); messageIdOf names the id of any message sent.
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
  /** Give every message one unique key, keyOf(message id) (default: no keys). */
  keys?: boolean;
  /** 8 hex digits that start every message id (default: random). */
  idTag?: string;
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
  /** Requests numbered so far: messageIdOf(idTag, r, slot) for r below it, slot below batch (failed ones included). */
  requests: number;
  idTag: string;
}

const ID_FIELD = 22;

/** The id of the message in `slot` of request number `request` (runSendLoad's numbering). */
export function messageIdOf(idTag: string, request: number, slot: number): string {
  return `${idTag}${slot.toString(16).padStart(2, '0')}${request.toString(16).padStart(ID_FIELD, '0')}`;
}

/** The key of the message with this id when sent with `keys`. */
export const keyOf = (messageId: string): string => `k${messageId}`;

/** The encoded request and where each message id's counter field is (twice per message with keys). */
function template(topic: string, batch: number, bodyBytes: number, tag: string, keys: boolean): { bytes: Buffer; offsets: number[] } {
  const body = randomBytes(bodyBytes);
  const ids = Array.from({ length: batch }, (_, slot) => messageIdOf(tag, 0, slot));
  const messages = ids.map((id) => {
    const message = wireMessage(topic, id, body) as { system_properties: Record<string, unknown> };
    if (keys) message.system_properties.keys = [keyOf(id)];
    return message;
  });
  const bytes = methods.SendMessage.requestSerialize({ messages });
  const offsets: number[] = [];
  for (const id of ids) {
    const needle = Buffer.from(id, 'latin1');
    let found = 0;
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1), found++) offsets.push(at + tag.length + 2);
    if (found !== (keys ? 2 : 1)) throw new Error(`message id found ${found} times in the encoded request`);
  }
  return { bytes, offsets };
}

const identity = (b: Buffer): Buffer => b;

export async function runSendLoad(clients: grpc.Client[], opts: SendLoadOptions): Promise<SendLoadResult> {
  const idTag = opts.idTag ?? randomBytes(4).toString('hex');
  const { bytes, offsets } = template(opts.topic, opts.batch, opts.bodyBytes, idTag, opts.keys ?? false);
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
    return { messages: acked, seconds, msgsPerSec: acked / seconds, failedRequests, firstError, requests: counter, idTag };
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
    requests: counter,
    idTag,
  };
}
