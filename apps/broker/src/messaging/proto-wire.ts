/**
 * Protocol-buffers wire primitives for the frames the broker encodes and decodes by hand
 * (delivered-frame.ts, send-codec.ts; NODE-PERFORMANCE.md §5b): sizes, a writer into a Buffer of
 * the exact frame size, and a reader. Encoding: https://protobuf.dev/programming-guides/encoding/
 * — varints (negatives as ten bytes of two's complement, as protobufjs writes int32/int64), LEN
 * fields, keys = (field number << 3) | wire type.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;
export const FIELD_1_VARINT = 0x08; // Timestamp/Duration.seconds, Digest.type, Status.code
export const FIELD_2_VARINT = 0x10; // Timestamp/Duration.nanos
/** Longer ASCII strings are written by Buffer.write (one native call beats a long JS loop). */
const SHORT_ASCII_CHARS = 64;

/**
 * UTF-8 length of `s`. Broker strings are mostly short ASCII (ids, hosts, handles): counted here
 * rather than by a call into Buffer.byteLength.
 */
export function utf8Bytes(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return n;
}

/** Bytes of a varint (int32/int64 semantics: negatives take 10). */
export function varintBytes(n: number): number {
  if (n < 0) return 10;
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

/** Bytes of a LEN field with a one-byte key and `length` bytes of content. */
export function lenFieldBytes(length: number): number {
  return 1 + varintBytes(length) + length;
}

/** Content bytes of a Timestamp / Duration of `ms` milliseconds (seconds and nanos always written, as v2-wire's durationOf sets both). */
export function timeBytes(ms: number): number {
  return 2 + varintBytes(Math.floor(ms / 1000)) + varintBytes((ms % 1000) * 1e6);
}

/** Writes into a Buffer of the exact frame size. */
export class FrameWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  bytes(bs: readonly number[]): void {
    for (const b of bs) this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    if (n < 0) return this.negativeVarint(n);
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** A negative int32/int64: ten bytes of two's complement, as protobufjs writes it. */
  private negativeVarint(n: number): void {
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** A one-byte key and a length. */
  lenPrefix(key: number, length: number): void {
    this.buf[this.pos++] = key;
    this.varint(length);
  }

  string(key: number, s: string, byteLength: number): void {
    this.lenPrefix(key, byteLength);
    this.utf8(s, byteLength);
  }

  /** `s` of `byteLength` UTF-8 bytes; short ASCII is copied here, the rest by Buffer.write. */
  utf8(s: string, byteLength: number): void {
    if (byteLength === s.length && byteLength <= SHORT_ASCII_CHARS) {
      for (let i = 0; i < byteLength; i++) this.buf[this.pos++] = s.charCodeAt(i);
    } else {
      this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
    }
  }

  copy(b: Buffer): void {
    this.pos += b.copy(this.buf, this.pos);
  }

  /** A Timestamp/Duration field: seconds, then nanos (v2-wire's durationOf). */
  time(key: number, ms: number): void {
    this.lenPrefix(key, timeBytes(ms));
    this.byte(FIELD_1_VARINT);
    this.varint(Math.floor(ms / 1000));
    this.byte(FIELD_2_VARINT);
    this.varint((ms % 1000) * 1e6);
  }

}

/** Reads fields of one message held in buf[pos, end). A malformed message throws ProtoWireError. */
export class ProtoReader {
  /** The low and high 32 bits of the last varint read. */
  private lo = 0;
  private hi = 0;

  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's key: (field number << 3) | wire type. */
  key(): number {
    this.readVarint();
    return this.hi === 0 ? this.lo : -1; // field numbers fit in 29 bits; -1 never matches a field
  }

  /** A varint as an unsigned 32-bit number (enums, uint32, lengths). */
  uint32(): number {
    this.readVarint();
    return this.lo;
  }

  /** A varint as int32 (negatives arrive as ten bytes). */
  int32(): number {
    this.readVarint();
    return this.lo | 0;
  }

  /** A varint as int64, in decimal (proto-loader's `longs: String`). */
  int64String(): string {
    this.readVarint();
    if (this.hi < 0x200000) return String(this.hi * 0x100000000 + this.lo);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo)).toString();
  }

  /**
   * Moves past a LEN field and returns where its content starts in buf; it ends at `pos`. (No
   * [start, end] pair: an array per field showed as 6% of SendMessage's allocations.)
   */
  lenStart(): number {
    const length = this.uint32();
    const start = this.pos;
    if (length > this.end - start) throw new ProtoWireError('field runs past the end of its message');
    this.pos = start + length;
    return start;
  }

  string(): string {
    const start = this.lenStart();
    return this.buf.toString('utf8', start, this.pos);
  }

  bytes(): Buffer {
    const start = this.lenStart();
    return this.buf.subarray(start, this.pos);
  }

  /** Skips the value of a field whose key was `key`. */
  skip(key: number): void {
    switch (key & 7) {
      case WIRE_VARINT:
        this.readVarint();
        return;
      case WIRE_I64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.lenStart();
        return;
      case WIRE_I32:
        this.pos += 4;
        break;
      default:
        throw new ProtoWireError(`wire type ${key & 7} is not supported`);
    }
    if (this.pos > this.end) throw new ProtoWireError('field runs past the end of its message');
  }

  private readVarint(): void {
    let lo = 0;
    let hi = 0;
    const { buf, end } = this;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= end) throw new ProtoWireError('varint runs past the end of its message');
      const b = buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new ProtoWireError('varint longer than ten bytes');
  }
}

export class ProtoWireError extends Error {}
