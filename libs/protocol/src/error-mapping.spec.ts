import { status } from '@grpc/grpc-js';
import { ApogeeError } from './apogee-error';
import { ERROR_CODES, isErrorCode } from './error-codes';
import { ERROR_CODE_METADATA_KEY, toGrpcStatus, toV2Status } from './error-mapping';

class ForeignError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

describe('error registry', () => {
  it.each(['STORAGE_READ_ONLY', 'DISK_FULL', 'MESSAGE_TOO_LARGE', 'INVALID_NAME', 'CORRUPT_RECORD', 'IO_ERROR'])(
    'registers the lib code %s',
    (code) => expect(isErrorCode(code)).toBe(true),
  );

  it('is frozen', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    expect(Object.isFrozen(ERROR_CODES.IO_ERROR)).toBe(true);
  });
});

describe('ApogeeError', () => {
  it('carries code, retriable from the registry, and cause', () => {
    const cause = new Error('ENOSPC');
    const err = new ApogeeError('DISK_FULL', 'disk 97% full', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ApogeeError');
    expect(err.code).toBe('DISK_FULL');
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(new ApogeeError('IO_ERROR', 'x', { retriable: true }).retriable).toBe(true);
  });
});

describe('toGrpcStatus', () => {
  it('maps an ApogeeError by its code and keeps the message', () => {
    const s = toGrpcStatus(new ApogeeError('MESSAGE_TOO_LARGE', 'body is 5 MiB, limit 4 MiB'));
    expect(s).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'body is 5 MiB, limit 4 MiB' });
    expect(s.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['MESSAGE_TOO_LARGE']);
  });

  it('maps another lib error class by its string code', () => {
    expect(toGrpcStatus(new ForeignError('STORAGE_READ_ONLY', 'read-only'))).toMatchObject({
      code: status.UNAVAILABLE,
      details: 'read-only',
      errorCode: 'STORAGE_READ_ONLY',
    });
    expect(toGrpcStatus(new ForeignError('CORRUPT_RECORD', 'bad crc')).code).toBe(status.DATA_LOSS);
  });

  it.each([new Error('boom'), new ForeignError('ENOENT', 'no such file'), 'a string', null, { code: 42 }])(
    'maps unknown error %p to INTERNAL without leaking its message',
    (err) =>
      expect(toGrpcStatus(err)).toMatchObject({
        code: status.INTERNAL,
        details: 'internal error',
        errorCode: 'INTERNAL',
      }),
  );
});

describe('toV2Status', () => {
  it('maps to the in-band RocketMQ code', () => {
    expect(toV2Status(new ApogeeError('MESSAGE_TOO_LARGE', 'too big'))).toEqual({
      code: 'MESSAGE_BODY_TOO_LARGE',
      message: 'too big',
    });
    expect(toV2Status(new ForeignError('INVALID_NAME', 'bad name'))).toEqual({
      code: 'BAD_REQUEST',
      message: 'bad name',
    });
    expect(toV2Status(new ForeignError('RESERVED_TOPIC', 'system topic')).code).toBe('ILLEGAL_TOPIC');
    expect(toV2Status(new TypeError('x'))).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error' });
  });
});

describe('broker metadata codes', () => {
  it.each([
    ['TOPIC_NOT_FOUND', status.NOT_FOUND, 'TOPIC_NOT_FOUND'],
    ['TOPIC_EXISTS', status.ALREADY_EXISTS, 'BAD_REQUEST'],
    ['TOPIC_NOT_WRITABLE', status.FAILED_PRECONDITION, 'FORBIDDEN'],
    ['MESSAGE_TYPE_MISMATCH', status.FAILED_PRECONDITION, 'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE'],
    ['GROUP_NOT_FOUND', status.NOT_FOUND, 'CONSUMER_GROUP_NOT_FOUND'],
    ['GROUP_EXISTS', status.ALREADY_EXISTS, 'BAD_REQUEST'],
  ] as const)('maps %s to gRPC %s and v2 %s', (code, grpcStatus, v2Code) => {
    const err = new ApogeeError(code, 'what to fix');
    expect(toGrpcStatus(err)).toMatchObject({ code: grpcStatus, details: 'what to fix', errorCode: code });
    expect(toV2Status(err)).toEqual({ code: v2Code, message: 'what to fix' });
  });
});
