/**
 * Turning a caller's key and value into a journal mutation: key checks, JSON serialisation, and
 * the frozen copy that the in-memory map holds (what a reopen would read back).
 */
import { StorageError } from '../errors';
import { MAX_KEY_BYTES, OP_DELETE, OP_SET, type DecodedMutation, type MetaMutation } from './journal-file';

export function checkedKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new StorageError('INVALID_NAME', `metadata key must be a non-empty string of at most ${MAX_KEY_BYTES} UTF-8 bytes`);
  }
  return key;
}

export function setMutation(key: string, value: unknown): MetaMutation {
  let valueJson: string | undefined;
  try {
    valueJson = JSON.stringify(value);
  } catch (err) {
    throw new StorageError('INVALID_MESSAGE', `value for metadata key "${key}" is not JSON-serialisable`, { cause: err });
  }
  if (valueJson === undefined) {
    throw new StorageError('INVALID_MESSAGE', `value for metadata key "${key}" is not JSON-serialisable`);
  }
  return { op: OP_SET, key: checkedKey(key), valueJson };
}

/** The value as it will read back after a reopen: parsed from its JSON text, frozen. */
export function decodedCopy(mutation: MetaMutation): DecodedMutation {
  if (mutation.op === OP_DELETE) return mutation;
  return { op: OP_SET, key: mutation.key, value: deepFreeze(JSON.parse(mutation.valueJson)) };
}

export function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
