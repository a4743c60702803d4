/**
 * Commit-log record layout (spec: docs/formats/commit-log.md).
 *
 * Written by the commit log's writer (one record per message, encoded in place into a batch
 * buffer); read by the dispatcher, by recovery and by every read of a message. All integers are
 * big-endian; int64 values are stored as two 32-bit halves and are < 2^53.
 *
 * | offset | width | field            | meaning                                                    |
 * |-------:|------:|------------------|------------------------------------------------------------|
 * |      0 |     4 | totalBytes       | whole record, this field included                          |
 * |      4 |     2 | magic            | 0xA90E                                                     |
 * |      6 |     1 | version          | 1                                                          |
 * |      7 |     1 | recordType       | 0 = message, 1 = segment-end filler                        |
 * |      8 |     4 | crc              | CRC-32/IEEE of bytes [12, totalBytes)                      |
 * |     12 |     4 | queueId          | consume queue id within the topic                          |
 * |     16 |     4 | flags            | message flags (see MessageFlags)                           |
 * |     20 |     8 | queueOffset      | QueueOffset: entry number in (topic, queueId)              |
 * |     28 |     8 | physicalOffset   | PhysicalOffset of this record (a self-check)               |
 * |     36 |     8 | bornTimestampMs  | when the producer created the message                      |
 * |     44 |     8 | storeTimestampMs | when the broker appended it                                |
 * |     52 |     4 | bodyBytes        | length of body                                             |
 * |     56 |     2 | propertiesBytes  | length of properties                                       |
 * |     58 |     2 | keysBytes        | length of keys                                             |
 * |     60 |     1 | topicBytes       | length of topic                                            |
 * |     61 |     1 | tagBytes         | length of tag                                              |
 * |     62 |     1 | bornHostBytes    | length of bornHost                                         |
 * |     63 |     1 | storeHostBytes   | length of storeHost                                        |
 * |     64 |     1 | messageIdBytes   | length of messageId                                        |
 * |     65 |     3 | reserved         | zero                                                       |
 * |     68 |     … | variable fields  | topic, bornHost, storeHost, messageId, keys, tag,          |
 * |        |       |                  | properties, body — in this order, UTF-8 except the body    |
 *
 * A segment-end filler is the 8-byte prefix only (totalBytes = the rest of the segment, magic,
 * version, recordType 1): it tells recovery that the segment ends there on purpose.
 */

export const RECORD_MAGIC = 0xa90e;
export const RECORD_VERSION = 1;
export const RECORD_TYPE_MESSAGE = 0;
export const RECORD_TYPE_FILLER = 1;

export const AT_TOTAL_BYTES = 0;
export const AT_MAGIC = 4;
export const AT_VERSION = 6;
export const AT_RECORD_TYPE = 7;
export const AT_CRC = 8;
export const CRC_FROM = 12;
export const AT_QUEUE_ID = 12;
export const AT_FLAGS = 16;
export const AT_QUEUE_OFFSET = 20;
export const AT_PHYSICAL_OFFSET = 28;
export const AT_BORN_TIMESTAMP = 36;
export const AT_STORE_TIMESTAMP = 44;
export const AT_BODY_BYTES = 52;
export const AT_PROPERTIES_BYTES = 56;
export const AT_KEYS_BYTES = 58;
export const AT_TOPIC_BYTES = 60;
export const AT_TAG_BYTES = 61;
export const AT_BORN_HOST_BYTES = 62;
export const AT_STORE_HOST_BYTES = 63;
export const AT_MESSAGE_ID_BYTES = 64;
export const FIXED_BYTES = 68;

/** The smallest prefix that identifies a record or a filler. */
export const PREFIX_BYTES = 8;

export const MAX_U8 = 0xff;
export const MAX_U16 = 0xffff;

/** Separators inside `keys` and `properties` (RocketMQ's NAME_VALUE / PROPERTY separators). */
export const KEY_SEPARATOR = '\u0001';
export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';
