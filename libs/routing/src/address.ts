/**
 * Broker addresses: `host:port`, where host is a dotted-quad IPv4 address, a bracketed IPv6
 * address (`[::1]:8081`) or a DNS name. The scheme names match `apache.rocketmq.v2.AddressScheme`,
 * which a route answer must set correctly for each broker endpoint.
 */
import { RoutingError, quote } from './routing-error';

export type AddressScheme = 'IPv4' | 'IPv6' | 'DOMAIN_NAME';

export interface BrokerAddress {
  /** Host without brackets. */
  readonly host: string;
  readonly port: number;
  readonly scheme: AddressScheme;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
const DNS_LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const DNS_MAX_LENGTH = 253;
const PORT = /^[1-9]\d{0,4}$/;
const MAX_PORT = 65535;

export function parseBrokerAddress(address: string): BrokerAddress {
  const split = splitHostPort(address);
  const port = parsePort(address, split.port);
  if (split.bracketed) {
    if (!isIpv6(split.host)) invalid(address, `${quote(split.host)} is not an IPv6 address`);
    return { host: split.host, port, scheme: 'IPv6' };
  }
  if (IPV4.test(split.host)) {
    if (!isIpv4(split.host)) invalid(address, `${quote(split.host)} has an IPv4 part above 255`);
    return { host: split.host, port, scheme: 'IPv4' };
  }
  if (!isDnsName(split.host)) {
    invalid(address, `${quote(split.host)} is neither an IPv4 address nor a DNS name (labels of letters, digits and '-')`);
  }
  return { host: split.host, port, scheme: 'DOMAIN_NAME' };
}

/** The canonical `host:port` form (IPv6 in brackets). */
export function formatBrokerAddress(address: BrokerAddress): string {
  return address.scheme === 'IPv6' ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function splitHostPort(address: string): { host: string; port: string; bracketed: boolean } {
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0 || address[close + 1] !== ':') invalid(address, "an IPv6 host must be written as [address]:port");
    return { host: address.slice(1, close), port: address.slice(close + 2), bracketed: true };
  }
  const colon = address.lastIndexOf(':');
  if (colon <= 0) invalid(address, 'it must be host:port');
  const host = address.slice(0, colon);
  if (host.includes(':')) invalid(address, 'an IPv6 host must be written in brackets, as [::1]:8081');
  return { host, port: address.slice(colon + 1), bracketed: false };
}

function parsePort(address: string, port: string): number {
  const value = PORT.test(port) ? Number(port) : NaN;
  if (!(value >= 1 && value <= MAX_PORT)) invalid(address, `port ${quote(port)} is not an integer from 1 to ${MAX_PORT}`);
  return value;
}

function isIpv4(host: string): boolean {
  return host.split('.').every((part) => Number(part) <= 255);
}

function isIpv6(host: string): boolean {
  const colons = host.split(':').length - 1;
  return IPV6.test(host) && colons >= 2 && colons <= 7;
}

/** RFC 1123 host name; an all-digit last label would read as a mistyped IPv4 address. */
function isDnsName(host: string): boolean {
  const labels = host.split('.');
  const lastIsNumeric = /^\d+$/.test(labels[labels.length - 1]);
  return host.length <= DNS_MAX_LENGTH && labels.every((label) => DNS_LABEL.test(label)) && !lastIsNumeric;
}

function invalid(address: string, why: string): never {
  throw new RoutingError('INVALID_BROKER_ADDRESS', `Broker address ${quote(address)} is invalid: ${why}`);
}
