import { StorageError } from '../errors';
import { NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from './record-layout';
import { propertyTextBytes, writeUtf8 } from './utf8';

/** User and system properties of a message: string → string. */
export type MessageProperties = Readonly<Record<string, string>>;

/**
 * A message's properties, checked, as name, value, name, value, … Reused from message to message
 * (only the first 2 × count slots count), so the strings read once are the strings written.
 */
export class PropertyTexts {
  readonly texts: string[] = [];
  count = 0;
}

/**
 * Checks `properties` and collects them into `into`; returns their encoded size,
 * `name\u0001value\u0002` per property, as RocketMQ stores them.
 */
export function collectProperties(properties: MessageProperties | undefined, into: PropertyTexts): number {
  into.count = 0;
  if (!properties) return 0;
  const texts = into.texts;
  let count = 0;
  let bytes = 0;
  for (const name of Object.keys(properties)) {
    const value = properties[name];
    const nameBytes = propertyTextBytes(name);
    const valueBytes = typeof value === 'string' ? propertyTextBytes(value) : -1;
    if (nameBytes <= 0 || valueBytes < 0) {
      throw new StorageError(
        'INVALID_MESSAGE',
        `property ${JSON.stringify(name)} is invalid: names are non-empty; names and values are strings without \\u0001 or \\u0002`,
      );
    }
    texts[2 * count] = name;
    texts[2 * count + 1] = value;
    count++;
    bytes += nameBytes + valueBytes + 2;
  }
  into.count = count;
  return bytes;
}

const NAME_VALUE_BYTE = NAME_VALUE_SEPARATOR.charCodeAt(0);
const PROPERTY_BYTE = PROPERTY_SEPARATOR.charCodeAt(0);

/** Writes the properties collected in `from` at `at`; returns the offset after them. */
export function writeProperties(out: Buffer, at: number, from: PropertyTexts): number {
  const texts = from.texts;
  let o = at;
  for (let i = 0; i < 2 * from.count; i += 2) {
    o = writeUtf8(out, o, texts[i]);
    out[o++] = NAME_VALUE_BYTE;
    o = writeUtf8(out, o, texts[i + 1]);
    out[o++] = PROPERTY_BYTE;
  }
  return o;
}

export function decodeProperties(encoded: string): MessageProperties {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < encoded.length) {
    const nameEnd = encoded.indexOf(NAME_VALUE_SEPARATOR, at);
    const valueEnd = encoded.indexOf(PROPERTY_SEPARATOR, nameEnd + 1);
    if (nameEnd < 0 || valueEnd < 0) break;
    out[encoded.slice(at, nameEnd)] = encoded.slice(nameEnd + 1, valueEnd);
    at = valueEnd + 1;
  }
  return out;
}
