/**
 * Names of apache.rocketmq.v2.Code values that Apogee answers with (the subset in use; the
 * numbers come from the official proto, loaded at run time). RocketMQ answers business errors
 * in-band as Status{code, message} with gRPC OK.
 */
export type RocketMqCode =
  | 'OK'
  | 'BAD_REQUEST'
  | 'ILLEGAL_TOPIC'
  | 'ILLEGAL_CONSUMER_GROUP'
  | 'ILLEGAL_MESSAGE_TAG'
  | 'ILLEGAL_MESSAGE_KEY'
  | 'ILLEGAL_MESSAGE_GROUP'
  | 'ILLEGAL_INVISIBLE_TIME'
  | 'ILLEGAL_FILTER_EXPRESSION'
  | 'INVALID_RECEIPT_HANDLE'
  | 'NOT_FOUND'
  | 'TOPIC_NOT_FOUND'
  | 'CONSUMER_GROUP_NOT_FOUND'
  | 'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE'
  | 'FORBIDDEN'
  | 'MESSAGE_BODY_TOO_LARGE'
  | 'INTERNAL_SERVER_ERROR'
  | 'NOT_IMPLEMENTED'
  | 'UNSUPPORTED'
  | 'MULTIPLE_RESULTS'
  | 'ILLEGAL_MESSAGE_ID'
  | 'ILLEGAL_MESSAGE_PROPERTY_KEY'
  | 'MESSAGE_CORRUPTED'
  | 'MESSAGE_BODY_EMPTY'
  | 'MESSAGE_PROPERTIES_TOO_LARGE'
  | 'ILLEGAL_DELIVERY_TIME'
  | 'UNRECOGNIZED_CLIENT_TYPE'
  | 'CLIENT_ID_REQUIRED';
