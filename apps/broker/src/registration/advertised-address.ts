import { formatHostPort } from '@apogee/runtime';
import type { BrokerConfig } from '../config';

/** Wildcard bind addresses and the loopback address a client on the same machine reaches them by. */
const WILDCARD_TO_LOOPBACK: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' };

/**
 * The host:port nameservers (and, through routes, clients) are told to reach this broker at:
 * `advertisedAddress` when set, else grpcHost and `boundPort` (the port the gRPC server actually
 * listens on, so port 0 works), a wildcard host replaced by loopback.
 */
export function advertisedAddressOf(config: Pick<BrokerConfig, 'advertisedAddress' | 'grpcHost'>, boundPort: number): string {
  if (config.advertisedAddress !== '') return config.advertisedAddress;
  return formatHostPort(WILDCARD_TO_LOOPBACK[config.grpcHost] ?? config.grpcHost, boundPort);
}
