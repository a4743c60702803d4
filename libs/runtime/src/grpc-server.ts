import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';
import { formatHostPort } from './host-port';

/** One gRPC service to serve; `name` is its full name (`apache.rocketmq.v2.MessagingService`) for health. */
export interface GrpcServiceRegistration {
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  host: string;
  /** 0 picks a free port; the real one is in the result. */
  port: number;
  services?: readonly GrpcServiceRegistration[];
  /** How long stop() lets open calls finish before cancelling them. */
  shutdownGraceMs: number;
  serverOptions?: grpc.ServerOptions;
}

export interface GrpcServer {
  server: grpc.Server;
  /** Serves grpc.health.v1; '' is the whole server, plus each registered service by name. */
  health: HealthImplementation;
  port: number;
  /** host:port */
  address: string;
  /** Marks every service NOT_SERVING, then tryShutdown, then forceShutdown after the grace period. */
  stop(): Promise<void>;
  /** Serves the same services on one more host:port as well (a broker group's service address); rejects if it cannot bind. */
  listenAlso(address: string): Promise<void>;
  /** Stops listening on an address added with listenAlso and cancels the calls that came in through it. */
  stopListening(address: string): void;
}

const DEFAULT_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

/** Creates a grpc-js server with the given services and grpc.health.v1, and binds it. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const services = options.services ?? [];
  const server = new grpc.Server({ ...DEFAULT_SERVER_OPTIONS, ...options.serverOptions });
  for (const s of services) server.addService(s.definition, s.implementation);
  const names = ['', ...services.map((s) => s.name)];
  const health = new HealthImplementation(statusMap(names, 'SERVING'));
  health.addToServer(server);

  const requested = formatHostPort(options.host, options.port);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(requested, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (!err) return resolve(p);
      server.forceShutdown();
      reject(new Error(`grpc: cannot listen on ${requested}: ${err.message}`, { cause: err }));
    }),
  );

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      for (const name of names) health.setStatus(name, 'NOT_SERVING');
      const force = setTimeout(() => server.forceShutdown(), options.shutdownGraceMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    return stopped;
  };
  const extra = new Set<string>();
  const listenAlso = (address: string): Promise<void> =>
    new Promise((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => {
        if (err) return reject(new Error(`grpc: cannot listen on ${address}: ${err.message}`, { cause: err }));
        extra.add(address);
        resolve();
      }),
    );
  const stopListening = (address: string): void => {
    if (!extra.delete(address)) return;
    server.drain(address, 0); // GOAWAY now: clients reconnect, and reach whoever listens there next
    server.unbind(address);
  };
  return { server, health, port, address: formatHostPort(options.host, port), stop, listenAlso, stopListening };
}

function statusMap(names: readonly string[], status: 'SERVING'): ServingStatusMap {
  return Object.fromEntries(names.map((n) => [n, status]));
}
