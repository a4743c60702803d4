/**
 * The index-service's checkpoint: ONE record in the MetaTable `index-checkpoint` of
 * <dataDir>/meta (libs/storage MetaTable: a journal record is all-or-nothing after a crash).
 *
 * | field          | meaning                                                                     |
 * | -------------- | --------------------------------------------------------------------------- |
 * | durableEntries | KeyIndex entry count made durable by the flush this checkpoint follows      |
 * | brokers.<name> | brokerIndex: the broker's stable number in index entries (0–65535);          |
 * |                | nextOffset: the PhysicalOffset its Follow stream resumes from                |
 *
 * Rule (no gap, no duplicate): the positions are read in the same synchronous step in which
 * KeyIndex.flush() captures its entry count, so every entry below durableEntries comes from a
 * batch below the positions and every batch below the positions has its entries below
 * durableEntries. At open, KeyIndex.open({ durableEntries }) drops every entry after it and each
 * stream resumes at its nextOffset: the batches whose entries were dropped are streamed again.
 * The broker numbering lives in the same record, so a number is durable exactly when the first
 * entries that use it are. No record yet (first start) means durableEntries 0.
 */
export const CHECKPOINT_TABLE = 'index-checkpoint';
export const CHECKPOINT_KEY = 'checkpoint';
/** brokerIndex is 16 bits in the key-index entry. */
export const MAX_BROKER_INDEX = 0xffff;

export interface BrokerCheckpoint {
  readonly brokerIndex: number;
  readonly nextOffset: number;
}

export interface Checkpoint {
  readonly durableEntries: number;
  readonly brokers: Readonly<Record<string, BrokerCheckpoint>>;
}

export const EMPTY_CHECKPOINT: Checkpoint = Object.freeze({ durableEntries: 0, brokers: Object.freeze({}) });

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks a stored record; throws on anything a crash cannot produce (the file was edited or is from another version). */
export function parseCheckpoint(value: unknown): Checkpoint {
  const fail = (why: string): never => {
    throw new Error(`index checkpoint: ${why}: ${JSON.stringify(value)}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const { durableEntries, brokers } = value as { durableEntries?: unknown; brokers?: unknown };
  if (!isCount(durableEntries)) return fail('bad durableEntries');
  if (typeof brokers !== 'object' || brokers === null) return fail('bad brokers');
  const out: Record<string, BrokerCheckpoint> = {};
  const seen = new Set<number>();
  for (const [name, b] of Object.entries(brokers as Record<string, unknown>)) {
    const { brokerIndex, nextOffset } = (b ?? {}) as { brokerIndex?: unknown; nextOffset?: unknown };
    if (!isCount(brokerIndex) || brokerIndex > MAX_BROKER_INDEX || seen.has(brokerIndex)) return fail(`bad brokerIndex of ${name}`);
    if (!isCount(nextOffset)) return fail(`bad nextOffset of ${name}`);
    seen.add(brokerIndex);
    out[name] = { brokerIndex, nextOffset };
  }
  return { durableEntries, brokers: out };
}
