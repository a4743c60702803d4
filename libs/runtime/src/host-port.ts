/** host:port, with brackets around an IPv6 host. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Wildcard bind addresses and the loopback address a client on the same machine reaches them by. */
const WILDCARD_TO_LOOPBACK: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' };

/**
 * The host:port a server tells others to reach it at: `advertisedAddress` when set, else
 * `grpcHost` and `boundPort` (the port the server actually listens on, so port 0 works), a
 * wildcard host replaced by loopback.
 */
export function advertisedAddressOf(config: { readonly advertisedAddress: string; readonly grpcHost: string }, boundPort: number): string {
  if (config.advertisedAddress !== '') return config.advertisedAddress;
  return formatHostPort(WILDCARD_TO_LOOPBACK[config.grpcHost] ?? config.grpcHost, boundPort);
}
