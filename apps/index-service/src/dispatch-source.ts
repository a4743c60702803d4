/**
 * What the index-service uses of a broker's apogee.broker.v1.BrokerDispatch service
 * (proto/apogee/broker/v1/dispatch.proto): @apogee/protocol's client and wire types under the
 * names the index-service code uses (unit tests pass fakes of DispatchClient).
 */

import type {
  BrokerDispatchClient,
  WireDispatchBatch,
  WireDispatchEntry,
  WireGetMessagesResponse,
  WireMessagesByTimeResponse,
  WireStoredMessage,
} from '@apogee/protocol';

/** int64 on the wire: decimal strings when decoded; numbers are accepted when encoding. */
export type WireInt64 = string | number;

export type FollowEntry = WireDispatchEntry;
export type FollowBatch = WireDispatchBatch;
export type StoredMessageWire = WireStoredMessage;
export type GetMessagesAnswer = WireGetMessagesResponse;
export type MessagesByTimeAnswer = WireMessagesByTimeResponse;
export type DispatchClient = BrokerDispatchClient;

export type DispatchClientFactory = (address: string) => DispatchClient;

/** A wire int64 as a number (our offsets and times stay below 2^53); absent or empty is 0. */
export function int64(value: WireInt64 | null | undefined): number {
  if (value === undefined || value === null || value === '') return 0;
  return typeof value === 'number' ? value : Number(value);
}
