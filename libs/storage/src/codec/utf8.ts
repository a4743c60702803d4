/**
 * UTF-8 sizes and writes of the short strings a record carries (message id, tag, keys, property
 * names and values). Very short strings are handled by JS loops, where a call into C++ costs more
 * than the loop; measured on this machine (Node 20), Buffer.byteLength wins from ~12 characters
 * and utf8Write from ~24. Sizes match Buffer.byteLength (a lone surrogate is U+FFFD: 3 bytes).
 */

import { NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from './record-layout';

/** At most this many characters are sized by a JS loop… */
const SIZE_LOOP_MAX = 12;
/** …and written by one. */
const WRITE_LOOP_MAX = 24;
const NAME_VALUE_CODE = NAME_VALUE_SEPARATOR.charCodeAt(0);
const PROPERTY_CODE = PROPERTY_SEPARATOR.charCodeAt(0);

/**
 * Node's Buffer#utf8Write (what Buffer#write calls after checking its arguments): sizes are known
 * here, so the hot path skips the second round of checks.
 */
interface RawWritable {
  utf8Write(value: string, offset: number, length: number): number;
}

/** UTF-8 size of `value`. */
export function utf8Bytes(value: string): number {
  return value.length > SIZE_LOOP_MAX ? Buffer.byteLength(value) : shortUtf8Bytes(value, false);
}

/** UTF-8 size of a property name or value, or -1 when it holds a separator. */
export function propertyTextBytes(value: string): number {
  if (value.length > SIZE_LOOP_MAX) {
    return value.includes(NAME_VALUE_SEPARATOR) || value.includes(PROPERTY_SEPARATOR) ? -1 : Buffer.byteLength(value);
  }
  return shortUtf8Bytes(value, true);
}

/** UTF-8 size of a short string by one pass over it; with `refuseSeparators`, -1 if it holds one. */
function shortUtf8Bytes(value: string, refuseSeparators: boolean): number {
  let bytes = value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      if (refuseSeparators && (c === NAME_VALUE_CODE || c === PROPERTY_CODE)) return -1;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
        i++;
        continue;
      }
    }
    bytes += c < 0x800 ? 1 : 2;
  }
  return bytes;
}

/**
 * Writes `value` as UTF-8 at `at` and returns the offset after it. The caller has made room
 * (utf8Bytes); ASCII is stored by the loop, anything from the first other character on by Node.
 */
export function writeUtf8(out: Buffer, at: number, value: string): number {
  const n = value.length;
  if (n > WRITE_LOOP_MAX) return at + (out as unknown as RawWritable).utf8Write(value, at, out.length - at);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return at + i + (out as unknown as RawWritable).utf8Write(value.substring(i), at + i, out.length - at - i);
    out[at + i] = c;
  }
  return at + n;
}

/** Copies `bytes` to `out` at `at` (short ones by a loop); returns the offset after them. */
export function writeBytes(out: Buffer, at: number, bytes: Buffer): number {
  const n = bytes.length;
  if (n > WRITE_LOOP_MAX) out.set(bytes, at);
  else for (let i = 0; i < n; i++) out[at + i] = bytes[i];
  return at + n;
}
