/**
 * GetMessages (proto/apogee/broker/v1/dispatch.proto): whole messages by PhysicalOffset, one item
 * per requested offset, in request order, each read and CRC-checked by MessageStore.read. An
 * offset that retention deleted, that lies past the written end, or where no record starts (or
 * whose record fails its check) is answered `found = false`: one bad offset never fails the
 * call. A malformed offset (negative, not an integer) or more than MAX_GET_MESSAGES offsets →
 * INVALID_ARGUMENT. Other store failures (an I/O error) fail the call.
 */
import {
  ApogeeError,
  type WireGetMessagesItem,
  type WireGetMessagesRequest,
  type WireGetMessagesResponse,
} from '@apogee/protocol';
import { StorageError, type MessageStore } from '@apogee/storage';
import { int64Arg, messageToWire } from './dispatch-wire';

export const MAX_GET_MESSAGES = 1000;

/** Store answers that mean "no message starts here", as opposed to a failing store. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['OFFSET_OUT_OF_RANGE', 'CORRUPT_RECORD', 'INVALID_OFFSET']);

export interface GetMessagesDeps {
  readonly store: Pick<MessageStore, 'read'>;
  readonly brokerName: string;
  readonly isHidden: (topic: string) => boolean;
}

export function getMessagesHandler(deps: GetMessagesDeps): (request: WireGetMessagesRequest) => WireGetMessagesResponse {
  return (request) => {
    const raw = request.physical_offsets ?? [];
    if (raw.length > MAX_GET_MESSAGES) {
      throw new ApogeeError('INVALID_ARGUMENT', `${raw.length} offsets requested; at most ${MAX_GET_MESSAGES} per call`);
    }
    const offsets = raw.map((value) => int64Arg(value, 'physical_offset'));
    const items = offsets.map((offset): WireGetMessagesItem => {
      try {
        const message = deps.store.read(offset);
        if (deps.isHidden(message.topic)) return { physical_offset: offset, found: false };
        return { physical_offset: offset, found: true, message: messageToWire(message) };
      } catch (err) {
        if (err instanceof StorageError && NOT_FOUND_CODES.has(err.code)) return { physical_offset: offset, found: false };
        throw err;
      }
    });
    return { items, broker_name: deps.brokerName };
  };
}
