import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '@apogee/protocol';
import { callServer, describeFailure, ServerError, type ServerTarget } from './server-error';

function grpcError(code: status, details: string, apogeeCode?: string): ServiceError {
  const metadata = new Metadata();
  if (apogeeCode !== undefined) metadata.set(ERROR_CODE_METADATA_KEY, apogeeCode);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

const nameserver: ServerTarget = { kind: 'nameserver', address: '127.0.0.1:9876' };
const broker: ServerTarget = { kind: 'broker', address: '10.0.0.7:8081', name: 'broker-b' };

describe('describeFailure', () => {
  it('says the nameserver cannot be reached, and how to fix that', () => {
    const details = 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9876. Resolution note: ';
    expect(describeFailure(grpcError(status.UNAVAILABLE, details), nameserver)).toEqual({
      message: 'cannot reach the nameserver at 127.0.0.1:9876 (No connection established. Last error: connect ECONNREFUSED 127.0.0.1:9876)',
      hint: 'Check that a nameserver runs at 127.0.0.1:9876 (`npm start` runs a local cluster), or pass --nameserver HOST:PORT.',
      grpcStatus: 'UNAVAILABLE',
    });
  });

  it('names the broker, and keeps the server message and the Apogee code', () => {
    const failure = describeFailure(grpcError(status.INVALID_ARGUMENT, 'Topic name "a b" ...', 'INVALID_TOPIC_NAME'), broker);
    expect(failure).toEqual({
      message: 'broker broker-b at 10.0.0.7:8081: Topic name "a b" ...',
      hint: 'Fix the value the message names and run the command again.',
      grpcStatus: 'INVALID_ARGUMENT',
      apogeeCode: 'INVALID_TOPIC_NAME',
    });
  });

  it('prefers a command hint by Apogee code, then by status, then the generic one', () => {
    const err = grpcError(status.NOT_FOUND, 'no route', 'NOT_FOUND');
    expect(describeFailure(err, nameserver, { NOT_FOUND: 'create it' }).hint).toBe('create it');
    const disk = grpcError(status.RESOURCE_EXHAUSTED, 'disk full', 'DISK_FULL');
    expect(describeFailure(disk, broker).hint).toMatch(/^Free disk space on the broker/);
    const readOnly = grpcError(status.UNAVAILABLE, 'store is read-only', 'STORAGE_READ_ONLY');
    expect(describeFailure(readOnly, broker)).toMatchObject({
      message: 'broker broker-b at 10.0.0.7:8081: store is read-only',
      hint: expect.stringMatching(/storage failed/),
    });
  });

  it('explains a wrong port (UNIMPLEMENTED) and a timeout', () => {
    expect(describeFailure(grpcError(status.UNIMPLEMENTED, 'x'), nameserver).hint).toMatch(/nameserver's gRPC port/);
    expect(describeFailure(grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), broker).message).toBe(
      'the broker broker-b at 10.0.0.7:8081 did not answer in time (Deadline exceeded)',
    );
  });
});

describe('callServer', () => {
  it('wraps a failure with the server it came from', async () => {
    const failing = callServer(nameserver, () => Promise.reject(grpcError(status.NOT_FOUND, 'gone')), { NOT_FOUND: 'look elsewhere' });
    const err = (await failing.catch((e: unknown) => e)) as ServerError;
    expect(err).toBeInstanceOf(ServerError);
    expect(err.describe()).toMatchObject({ message: 'nameserver at 127.0.0.1:9876: gone', hint: 'look elsewhere' });
  });
});
