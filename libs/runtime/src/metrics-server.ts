import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { formatHostPort } from './host-port';

export interface MetricsServerOptions {
  registry: Registry;
  host: string;
  /** 0 picks a free port; the real one is in the result. */
  port: number;
}

export interface MetricsServer {
  port: number;
  /** host:port */
  address: string;
  stop(): Promise<void>;
}

/** Serves GET /metrics in Prometheus text format; every other request gets 404. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => void handle(options.registry, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      const requested = formatHostPort(options.host, options.port);
      reject(new Error(`metrics: cannot listen on ${requested}: ${err.message}`, { cause: err }));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { port, address: formatHostPort(options.host, port), stop };
}

async function handle(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' || path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${(err as Error).message}\n`);
  }
}
