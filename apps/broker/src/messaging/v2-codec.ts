/**
 * Pieces shared by the hand-written apache.rocketmq.v2 codecs (send-codec.ts, ack-codec.ts):
 * enums by name and number from the official protos (never retyped), Resource, Status and
 * string fields. Field numbers: Resource resource_namespace 1, name 2 · Status code 1, message 2.
 */
import { v2EnumValues, type V2Status } from '@apogee/protocol';
import { FIELD_1_VARINT, FrameWriter, lenFieldBytes, ProtoReader, utf8Bytes, varintBytes } from './proto-wire';

export type Fields = Record<string, unknown>;

export type Enum = { readonly byNumber: ReadonlyMap<number, string>; readonly byName: ReadonlyMap<string, number> };

let enums: { code: Enum; messageType: Enum; encoding: Enum; digestType: Enum } | undefined;

function enumOf(name: string): Enum {
  const byName = v2EnumValues(`apache.rocketmq.v2.${name}`);
  return { byName, byNumber: new Map([...byName].map(([n, v]) => [v, n])) };
}

export function enumsOnce(): NonNullable<typeof enums> {
  enums ??= { code: enumOf('Code'), messageType: enumOf('MessageType'), encoding: enumOf('Encoding'), digestType: enumOf('DigestType') };
  return enums;
}

/** proto-loader's enums: String — the name, or the number when the value is unknown. */
export function enumName(e: Enum, n: number): string | number {
  return e.byNumber.get(n) ?? n;
}

/** Decodes the LEN field at the reader with `decode`, then moves past it. */
export function sub(r: ProtoReader, decode: (inner: ProtoReader) => Fields): Fields {
  const start = r.lenStart();
  return decode(new ProtoReader(r.buf, start, r.pos));
}

/** A Resource (resource_namespace, name) as proto-loader decodes it. */
export function resource(r: ProtoReader): Fields {
  const m: Fields = {};
  while (!r.done) {
    const key = r.key();
    if (key === 0x0a) m.resource_namespace = r.string();
    else if (key === 0x12) m.name = r.string();
    else r.skip(key);
  }
  return m;
}

type Status = V2Status;

/** Content bytes of a Status (code when set, message when set). */
export function statusSize(status: Status): number {
  const number = codeNumber(status.code);
  return (status.code === undefined ? 0 : 1 + varintBytes(number)) + stringSize(status.message);
}

/** Bytes of a string field with a one-byte key; 0 when absent. */
export function stringSize(s: string | undefined): number {
  return s === undefined || s === null ? 0 : lenFieldBytes(utf8Bytes(s));
}

export function writeString(w: FrameWriter, key: number, s: string | undefined): void {
  if (s !== undefined && s !== null) w.string(key, s, utf8Bytes(s));
}

function codeNumber(code: Status['code']): number {
  if (typeof code === 'number') return code;
  const number = enumsOnce().code.byName.get(code);
  if (number === undefined) throw new Error(`unknown apache.rocketmq.v2.Code ${JSON.stringify(code)}`);
  return number;
}

/** A Status field with key `key` and content size `size` (statusSize). */
export function writeStatus(w: FrameWriter, key: number, status: Status, size: number): void {
  w.lenPrefix(key, size);
  if (status.code !== undefined) {
    w.byte(FIELD_1_VARINT);
    w.varint(codeNumber(status.code));
  }
  writeString(w, 0x12, status.message);
}

/**
 * A response of the shape `{ Status status = 1; repeated Entry entries = 2; }` (SendMessage,
 * AckMessage): `entrySize` gives an entry's content bytes, `writeEntry` writes that content.
 */
export function encodeStatusAndEntries<E>(
  status: Status | undefined,
  entries: readonly E[] | undefined,
  entrySize: (entry: E) => number,
  writeEntry: (w: FrameWriter, entry: E) => void,
): Buffer {
  const statusBytes = status === undefined ? 0 : statusSize(status);
  const sized = (entries ?? []).map((entry) => ({ entry, bytes: entrySize(entry) }));
  let size = status === undefined ? 0 : lenFieldBytes(statusBytes);
  for (const e of sized) size += lenFieldBytes(e.bytes);
  const w = new FrameWriter(size);
  if (status !== undefined) writeStatus(w, 0x0a, status, statusBytes);
  for (const { entry, bytes } of sized) {
    w.lenPrefix(0x12, bytes);
    writeEntry(w, entry);
  }
  return w.buf;
}
