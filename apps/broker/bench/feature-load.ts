/**
 * Load generators of the feature benchmark (features.bench.ts), on raw SendMessage /
 * EndTransaction calls like send-load.ts (encode once with the project's proto-loader
 * definition, patch unique message ids in place, decode answers with protobufjs), closed loop over
 * `channels` connections × `inflight` requests each, sending exactly `totalMessages` and timed
 * from the first request to the last answer:
 *
 *   runBatchLoad  batches of `batch` messages of one type: NORMAL, or FIFO with
 *                 system_properties.message_group cycling over `groups` groups (message i of the
 *                 run is in group i mod groups); both kinds use the same number of pre-encoded
 *                 templates, so the generator does the same work for either.
 *   runTxLoad     one message per SendMessage; with `commit`, each is a TRANSACTION message whose
 *                 answer's transaction_id is then committed (EndTransaction COMMIT, SOURCE_CLIENT)
 *                 before that slot sends again; without, plain NORMAL sends of the same shape.
 */
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { benchMetadata, Code, methods, root, SERVICE_PATH, Types, wireMessage } from '@apogee/bench';

export type LoadKind = { type: 'NORMAL' } | { type: 'FIFO'; groups: number } | { type: 'TRANSACTION' };

export interface LoadResult {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  failed: number;
  firstError?: string;
}

interface Template {
  bytes: Buffer;
  offsets: number[];
}

const ID_FIELD = 22;
const identity = (b: Buffer): Buffer => b;
const EndTransactionResponse = root.lookupType('apache.rocketmq.v2.EndTransactionResponse');

interface WireStatus {
  code: number;
  message: string;
}
interface SendAnswer {
  status?: WireStatus;
  entries: { status?: WireStatus; message_id?: string; transaction_id?: string }[];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Encoded SendMessage requests of `batch` messages; template t holds messages t·batch … t·batch+batch−1 of a cycle. */
function templates(topic: string, batch: number, bodyBytes: number, kind: LoadKind, count: number): Template[] {
  const tag = randomBytes(4).toString('hex');
  const body = randomBytes(bodyBytes);
  return Array.from({ length: count }, (_, t) => {
    const ids = Array.from({ length: batch }, (_, slot) => `${tag}${slot.toString(16).padStart(2, '0')}${'0'.repeat(ID_FIELD)}`);
    const messages = ids.map((id, slot) => {
      const message = wireMessage(topic, id, body) as { system_properties: Record<string, unknown> };
      message.system_properties.message_type = kind.type;
      if (kind.type === 'FIFO') message.system_properties.message_group = `group-${(t * batch + slot) % kind.groups}`;
      return message;
    });
    const bytes = methods.SendMessage.requestSerialize({ messages });
    const offsets = ids.map((id) => bytes.indexOf(Buffer.from(id, 'latin1')) + tag.length + 2);
    if (offsets.some((o) => o < 10)) throw new Error('message id not found in the encoded request');
    return { bytes, offsets };
  });
}

/** Runs `inflight` loops per client until `total` messages were issued; `op` sends one request. */
async function closedLoop(
  clients: grpc.Client[],
  inflight: number,
  total: number,
  perRequest: number,
  op: (client: grpc.Client, done: (ok: number, error?: string) => void) => void,
): Promise<LoadResult> {
  let issued = 0;
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = (client: grpc.Client): Promise<void> =>
    new Promise((resolve) => {
      const next = (): void => {
        if (issued >= total || failed >= 100) return resolve();
        issued += perRequest;
        op(client, (ok, error) => {
          acked += ok;
          if (error !== undefined) {
            failed++;
            firstError ??= error;
          }
          next();
        });
      };
      next();
    });
  const started = performance.now();
  await Promise.all(clients.flatMap((client) => Array.from({ length: inflight }, () => worker(client))));
  const seconds = (performance.now() - started) / 1000;
  return { messages: acked, seconds, msgsPerSec: acked / seconds, failed, firstError };
}

function sendCall(client: grpc.Client, request: Buffer, then: (err: string | undefined, answer?: SendAnswer) => void): void {
  client.makeUnaryRequest(SERVICE_PATH + 'SendMessage', identity, identity, request, benchMetadata(), { deadline: Date.now() + 30_000 }, (err, res) => {
    if (err) return then(`${err.code} ${err.details}`);
    then(undefined, Types.SendMessageResponse.decode(res!) as unknown as SendAnswer);
  });
}

/** A patcher that hands out copies of the templates in turn, each with fresh message ids. */
function requestSource(list: Template[]): () => Buffer {
  let counter = 0;
  return () => {
    const { bytes, offsets } = list[counter % list.length];
    const copy = Buffer.from(bytes);
    const field = (counter++).toString(16).padStart(ID_FIELD, '0');
    for (const offset of offsets) copy.write(field, offset, 'latin1');
    return copy;
  };
}

export interface BatchLoadOptions {
  topic: string;
  kind: LoadKind;
  batch: number;
  bodyBytes: number;
  inflight: number;
  totalMessages: number;
  /** Distinct templates cycled through (FIFO: enough to cover every group). */
  templateCount: number;
}

/** Templates needed so a FIFO run of `batch`-message requests cycles through all `groups`. */
export const templatesFor = (groups: number, batch: number): number => groups / gcd(groups, batch);

export function runBatchLoad(clients: grpc.Client[], opts: BatchLoadOptions): Promise<LoadResult> {
  const next = requestSource(templates(opts.topic, opts.batch, opts.bodyBytes, opts.kind, opts.templateCount));
  return closedLoop(clients, opts.inflight, opts.totalMessages, opts.batch, (client, done) =>
    sendCall(client, next(), (err, answer) => {
      if (err !== undefined) return done(0, err);
      const ok = answer!.entries.filter((e) => e.status?.code === Code.OK).length;
      done(ok, ok === opts.batch ? undefined : `status ${answer!.status?.code} ${answer!.status?.message}, ${ok}/${opts.batch} entries OK`);
    }),
  );
}

export interface TxLoadOptions {
  topic: string;
  /** TRANSACTION messages each followed by EndTransaction COMMIT; else NORMAL sends. */
  commit: boolean;
  bodyBytes: number;
  inflight: number;
  totalMessages: number;
}

export function runTxLoad(clients: grpc.Client[], opts: TxLoadOptions): Promise<LoadResult> {
  const kind: LoadKind = { type: opts.commit ? 'TRANSACTION' : 'NORMAL' };
  const next = requestSource(templates(opts.topic, 1, opts.bodyBytes, kind, 1));
  const topic = { resource_namespace: '', name: opts.topic };
  const endTransaction = methods.EndTransaction;
  return closedLoop(clients, opts.inflight, opts.totalMessages, 1, (client, done) =>
    sendCall(client, next(), (err, answer) => {
      if (err !== undefined) return done(0, err);
      const entry = answer!.entries[0];
      if (entry?.status?.code !== Code.OK) return done(0, `send status ${entry?.status?.code ?? answer!.status?.code} ${entry?.status?.message ?? answer!.status?.message}`);
      if (!opts.commit) return done(1);
      if (!entry.transaction_id) return done(0, 'TRANSACTION send answered without a transaction_id');
      const request = endTransaction.requestSerialize({
        topic,
        message_id: entry.message_id,
        transaction_id: entry.transaction_id,
        resolution: 'COMMIT',
        source: 'SOURCE_CLIENT',
      });
      client.makeUnaryRequest(SERVICE_PATH + 'EndTransaction', identity, identity, request, benchMetadata(), { deadline: Date.now() + 30_000 }, (err2, res) => {
        if (err2) return done(0, `EndTransaction ${err2.code} ${err2.details}`);
        const status = (EndTransactionResponse.decode(res!) as unknown as { status?: WireStatus }).status;
        if (status?.code !== Code.OK) return done(0, `EndTransaction status ${status?.code} ${status?.message}`);
        done(1);
      });
    }),
  );
}
