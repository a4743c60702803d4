import * as grpc from '@grpc/grpc-js';
import { checkHealth, createHealthClient } from '@apogee/protocol';
import { startGrpcServer, type GrpcServer } from './grpc-server';

const identity = (b: Buffer): Buffer => b;
const echoDefinition: grpc.ServiceDefinition = {
  Echo: {
    path: '/test.v1.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
const echo: grpc.UntypedServiceImplementation = {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
};

type WatchStream = grpc.ClientReadableStream<{ status: string }>;

describe('startGrpcServer', () => {
  let server: GrpcServer | undefined;
  afterEach(async () => {
    jest.restoreAllMocks();
    await server?.stop();
  });

  it('answers health Check SERVING for the server and each service on a free port', async () => {
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      services: [{ name: 'test.v1.Echo', definition: echoDefinition, implementation: echo }],
      shutdownGraceMs: 1_000,
    });
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    await expect(checkHealth(server.address)).resolves.toBe('SERVING');
    await expect(checkHealth(server.address, { service: 'test.v1.Echo' })).resolves.toBe('SERVING');
    await expect(checkHealth(server.address, { service: 'nope.v1.Nope' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it('stops: NOT_SERVING to watchers, open streams cancelled after the grace period, port closed', async () => {
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, shutdownGraceMs: 100 });
    const client = createHealthClient(server.address);
    try {
      const watch = (client as unknown as { watch(r: { service: string }): WatchStream }).watch({ service: '' });
      const statuses: string[] = [];
      const ended = new Promise<grpc.status>((resolve) => watch.on('error', (e: grpc.ServiceError) => resolve(e.code)));
      await new Promise<void>((resolve) =>
        watch.on('data', (m: { status: string }) => {
          statuses.push(m.status);
          resolve();
        }),
      );
      await server.stop();
      expect(await ended).toBe(grpc.status.CANCELLED);
      expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
      await expect(checkHealth(server.address, { timeoutMs: 500 })).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    } finally {
      client.close();
    }
  });

  it('reports a port in use', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => {}); // grpc-js logs the failed bind too
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, shutdownGraceMs: 100 });
    await expect(startGrpcServer({ host: '127.0.0.1', port: server.port, shutdownGraceMs: 100 })).rejects.toThrow(
      `grpc: cannot listen on 127.0.0.1:${server.port}`,
    );
  });
});
