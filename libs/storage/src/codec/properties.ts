import { StorageError } from '../errors';
import { NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from './record-layout';

/** User and system properties of a message: string → string. */
export type MessageProperties = Readonly<Record<string, string>>;

function hasSeparator(s: string): boolean {
  return s.includes(NAME_VALUE_SEPARATOR) || s.includes(PROPERTY_SEPARATOR);
}

/** `name\u0001value\u0002` per property, as RocketMQ stores them. */
export function encodeProperties(properties: MessageProperties | undefined): string {
  if (!properties) return '';
  let out = '';
  for (const name of Object.keys(properties)) {
    const value = properties[name];
    if (name.length === 0 || hasSeparator(name) || typeof value !== 'string' || hasSeparator(value)) {
      throw new StorageError(
        'INVALID_MESSAGE',
        `property ${JSON.stringify(name)} is invalid: names are non-empty; names and values are strings without \\u0001 or \\u0002`,
      );
    }
    out += name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
  }
  return out;
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
