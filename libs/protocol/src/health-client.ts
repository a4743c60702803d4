import * as grpc from '@grpc/grpc-js';
import { protoPath, service as healthService } from 'grpc-health-check';

/** Path of grpc-health-check's grpc/health/v1/health.proto, for tools that load it themselves. */
export const healthProtoPath: string = protoPath;

export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: { status: HealthStatus }) => void,
  ): grpc.ClientUnaryCall;
}

const HealthClientConstructor = grpc.makeGenericClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  'Health',
) as unknown as new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

/** An insecure grpc.health.v1.Health client for host:port. Close it with client.close(). */
export function createHealthClient(address: string): HealthClient {
  return new HealthClientConstructor(address, grpc.credentials.createInsecure());
}

export interface CheckHealthOptions {
  /** '' (the default) asks about the whole server. */
  service?: string;
  timeoutMs?: number;
}

/**
 * Calls grpc.health.v1.Health/Check once and resolves with the status; rejects with the gRPC
 * error (UNAVAILABLE when nothing listens, NOT_FOUND for an unknown service).
 */
export function checkHealth(address: string, options: CheckHealthOptions = {}): Promise<HealthStatus> {
  const client = createHealthClient(address);
  const deadline = Date.now() + (options.timeoutMs ?? 2_000);
  return new Promise<HealthStatus>((resolve, reject) => {
    client.check({ service: options.service ?? '' }, { deadline }, (err, response) => {
      client.close();
      if (err) reject(err);
      else resolve(response?.status ?? 'UNKNOWN');
    });
  });
}
