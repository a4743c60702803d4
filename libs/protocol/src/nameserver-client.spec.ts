import { createServer, type AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import { createNameServerClient } from './nameserver-client';
import { loadNameServerService, NAMESERVER_SERVICE_NAME } from './nameserver-wire';

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('createNameServerClient', () => {
  it('loads the NameServer service with its six RPCs', () => {
    const Client = loadNameServerService();
    expect(Object.keys(Client.service)).toEqual([
      'RegisterBroker',
      'Heartbeat',
      'UnregisterBroker',
      'QueryRoute',
      'GetClusterInfo',
      'ListTopics',
    ]);
    expect(Client.service.QueryRoute.path).toBe(`/${NAMESERVER_SERVICE_NAME}/QueryRoute`);
  });

  it('rejects with the gRPC status when no nameserver answers, within its deadline', async () => {
    const client = createNameServerClient(`127.0.0.1:${await closedPort()}`, { timeoutMs: 1_000 });
    try {
      const err = await client.listTopics().then(() => undefined, (e: { code: status }) => e);
      expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(err?.code);
    } finally {
      client.close();
    }
  });
});
