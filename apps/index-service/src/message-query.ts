/**
 * The queries of apogee.index.v1.MessageIndex (semantics: the header of
 * proto/apogee/index/v1/index.proto). The index gives candidates; the owning broker's log is the
 * truth: each candidate is read back with BrokerDispatch.GetMessages and kept only if its topic
 * and key (or its id) really match — a 32-bit hash collision or a message retention deleted is
 * left out. A broker that holds candidates and cannot be reached fails the query (UNAVAILABLE).
 */
import { ApogeeError, type BrokerDispatchClient, type IndexFoundMessage, type IndexQueryResponse, int64FromWire, type WireInt64, type WireStoredMessage } from '@apogee/protocol';
import { validateTopicName } from '@apogee/routing';
import { indexKey, messageIdKey, type KeyCandidate } from '@apogee/storage';
import type { Indexer } from './indexer';

export const DEFAULT_QUERY_LIMIT = 32;
export const MAX_QUERY_LIMIT = 1000;
/** GetById reads at most this many candidates (a producer retry stores an id twice, not more). */
export const MAX_ID_CANDIDATES = 64;
/** Lookup rounds one QueryByKey page makes when collisions thin out a page. */
const MAX_LOOKUP_ROUNDS = 8;

/** The brokers queries may read from: the followed masters. */
export interface BrokerDirectory {
  /** A client of the broker's current master, or undefined when it is not known to be up. */
  clientOf(brokerName: string): BrokerDispatchClient | undefined;
  /** Broker names, sorted. */
  brokerNames(): string[];
}

export function matchesKey(message: WireStoredMessage, topic: string, key: string): boolean {
  return message.topic === topic && (message.keys ?? []).includes(key);
}

export function matchesId(message: WireStoredMessage, messageId: string, topic?: string): boolean {
  return message.message_id === messageId && (topic === undefined || message.topic === topic);
}

export function foundMessage(brokerName: string, m: WireStoredMessage): IndexFoundMessage {
  return {
    broker_name: brokerName,
    topic: m.topic ?? '',
    queue_id: m.queue_id ?? 0,
    queue_offset: m.queue_offset ?? '0',
    physical_offset: m.physical_offset ?? '0',
    message_id: m.message_id ?? '',
    keys: m.keys ?? [],
    tag: m.tag ?? '',
    properties: m.properties ?? {},
    body: m.body === undefined ? Buffer.alloc(0) : Buffer.from(m.body),
    born_timestamp_ms: m.born_timestamp_ms ?? '0',
    store_timestamp_ms: m.store_timestamp_ms ?? '0',
    born_host: m.born_host ?? '',
    store_host: m.store_host ?? '',
  };
}

const invalid = (message: string): ApogeeError => new ApogeeError('INVALID_ARGUMENT', message);

function checkTopic(topic: string | undefined): string {
  if (!topic) throw invalid('topic is required');
  validateTopicName(topic, { allowReserved: true });
  return topic;
}

function checkLimit(limit: number | undefined): number {
  const value = limit || DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(value) || value < 1 || value > MAX_QUERY_LIMIT) throw invalid(`limit must be in [1, ${MAX_QUERY_LIMIT}], got ${value}`);
  return value;
}

/** [from_ms, to_ms] with 0 = open; undefined bounds are open. */
function checkRange(fromMs: WireInt64 | undefined, toMs: WireInt64 | undefined): { fromMs?: number; toMs?: number } {
  const from = int64FromWire(fromMs);
  const to = int64FromWire(toMs);
  if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(to) || to < 0) throw invalid('from_ms and to_ms must be epoch milliseconds');
  if (from > 0 && to > 0 && from > to) throw invalid(`from_ms ${from} is after to_ms ${to}`);
  return { ...(from > 0 ? { fromMs: from } : {}), ...(to > 0 ? { toMs: to } : {}) };
}

function errorDetails(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'details' in err && typeof err.details === 'string' && err.details) return err.details;
  return err instanceof Error ? err.message : String(err);
}

function unavailable(brokerName: string, address: string | undefined, err?: unknown): ApogeeError {
  const where = address ? ` at ${address}` : '';
  const why = err === undefined ? 'is not reachable now' : `failed: ${errorDetails(err)}`;
  return new ApogeeError('BROKER_UNAVAILABLE', `broker ${brokerName}${where} ${why}; the answer would be incomplete`, { cause: err });
}

export class MessageQuery {
  constructor(
    private readonly indexer: Indexer,
    private readonly brokers: BrokerDirectory,
  ) {}

  async queryByKey(request: { topic?: string; key?: string; from_ms?: WireInt64; to_ms?: WireInt64; limit?: number; cursor?: string }): Promise<IndexQueryResponse> {
    const topic = checkTopic(request.topic);
    if (!request.key) throw invalid('key is required');
    const key = request.key;
    const limit = checkLimit(request.limit);
    const range = checkRange(request.from_ms, request.to_ms);
    let cursor: number | undefined;
    if (request.cursor) {
      if (!/^[0-9]{1,16}$/.test(request.cursor)) throw invalid(`bad cursor ${JSON.stringify(request.cursor)}`);
      cursor = Number(request.cursor);
    }
    const out: IndexFoundMessage[] = [];
    for (let round = 0; round < MAX_LOOKUP_ROUNDS && out.length < limit; round++) {
      const page = this.indexer.keyIndex.lookup(indexKey(topic, key), { ...range, limit: limit - out.length, cursor });
      out.push(...(await this.fetchMatching(page.candidates, (m) => matchesKey(m, topic, key))));
      cursor = page.cursor;
      if (cursor === undefined) break;
    }
    return { messages: out, next_cursor: cursor === undefined ? '' : String(cursor) };
  }

  async getById(request: { message_id?: string; topic?: string }): Promise<IndexQueryResponse> {
    if (!request.message_id) throw invalid('message_id is required');
    const id = request.message_id;
    const topic = request.topic ? checkTopic(request.topic) : undefined;
    const page = this.indexer.keyIndex.lookup(messageIdKey(id), { limit: MAX_ID_CANDIDATES });
    return { messages: await this.fetchMatching(page.candidates, (m) => matchesId(m, id, topic)), next_cursor: '' };
  }

  /** Per broker in queue order, brokers in name order; the cursor names the broker and its own cursor. */
  async queryByTime(request: { topic?: string; from_ms?: WireInt64; to_ms?: WireInt64; limit?: number; cursor?: string }): Promise<IndexQueryResponse> {
    const topic = checkTopic(request.topic);
    const limit = checkLimit(request.limit);
    const range = checkRange(request.from_ms, request.to_ms);
    const names = this.brokers.brokerNames();
    let at = { b: names[0] ?? '', c: '' };
    if (request.cursor) at = decodeTimeCursor(request.cursor);
    const out: IndexFoundMessage[] = [];
    for (const name of names.filter((n) => n >= at.b)) {
      let brokerCursor = name === at.b ? at.c : '';
      while (out.length < limit) {
        const client = this.brokers.clientOf(name);
        if (!client) throw unavailable(name, undefined);
        const page = { topic, from_ms: range.fromMs ?? 0, to_ms: range.toMs ?? Number.MAX_SAFE_INTEGER, limit: limit - out.length, cursor: brokerCursor };
        let answer;
        try {
          answer = await client.messagesByTime(page);
        } catch (err) {
          if (isNotFound(err)) break; // the topic has never been on this broker
          throw unavailable(name, client.address, err);
        }
        for (const m of answer.messages ?? []) out.push(foundMessage(name, m));
        brokerCursor = answer.next_cursor ?? '';
        if (!brokerCursor) break;
      }
      if (out.length >= limit) {
        const after = brokerCursor ? { b: name, c: brokerCursor } : nextBroker(names, name);
        return { messages: out, next_cursor: after ? encodeTimeCursor(after) : '' };
      }
    }
    return { messages: out, next_cursor: '' };
  }

  /** Reads the candidates from their brokers (one GetMessages per broker) and keeps matches, in candidate order. */
  private async fetchMatching(candidates: readonly KeyCandidate[], matches: (m: WireStoredMessage) => boolean): Promise<IndexFoundMessage[]> {
    const byBroker = new Map<string, KeyCandidate[]>();
    for (const c of candidates) {
      const name = this.indexer.brokerName(c.brokerIndex);
      if (name === undefined) continue; // numbered after the last checkpoint and lost: cannot be
      byBroker.set(name, [...(byBroker.get(name) ?? []), c]);
    }
    const found = new Map<string, IndexFoundMessage>();
    await Promise.all(
      [...byBroker].map(async ([name, list]) => {
        const client = this.brokers.clientOf(name);
        if (!client) throw unavailable(name, undefined);
        let answer;
        try {
          answer = await client.getMessages(list.map((c) => c.physicalOffset));
        } catch (err) {
          throw unavailable(name, client.address, err);
        }
        for (const item of answer.items ?? []) {
          if (item.found && item.message && matches(item.message)) found.set(`${name}@${int64FromWire(item.physical_offset)}`, foundMessage(name, item.message));
        }
      }),
    );
    const out: IndexFoundMessage[] = [];
    for (const c of candidates) {
      const m = found.get(`${this.indexer.brokerName(c.brokerIndex)}@${c.physicalOffset}`);
      if (m) out.push(m);
    }
    return out;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 5; // grpc status NOT_FOUND
}

function nextBroker(names: readonly string[], name: string): { b: string; c: string } | undefined {
  const next = names.find((n) => n > name);
  return next === undefined ? undefined : { b: next, c: '' };
}

export function encodeTimeCursor(at: { b: string; c: string }): string {
  return Buffer.from(JSON.stringify(at)).toString('base64url');
}

export function decodeTimeCursor(cursor: string): { b: string; c: string } {
  try {
    const at = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { b?: unknown; c?: unknown };
    if (typeof at.b === 'string' && typeof at.c === 'string') return { b: at.b, c: at.c };
  } catch {
    // falls through
  }
  throw invalid(`bad cursor ${JSON.stringify(cursor)}`);
}
