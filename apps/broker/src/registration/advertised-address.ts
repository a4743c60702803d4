/**
 * The host:port nameservers (and, through routes, clients) are told to reach this broker at:
 * `advertisedAddress` when set, else grpcHost and the port the gRPC server actually listens on,
 * a wildcard host replaced by loopback (@apogee/runtime advertisedAddressOf, shared with the
 * ha-replicator).
 */
export { advertisedAddressOf } from '@apogee/runtime';
