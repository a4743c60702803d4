import { formatBrokerAddress, parseBrokerAddress } from './address';

describe('parseBrokerAddress', () => {
  it.each([
    ['127.0.0.1:8081', '127.0.0.1', 8081, 'IPv4'],
    ['10.0.0.255:1', '10.0.0.255', 1, 'IPv4'],
    ['[::1]:8081', '::1', 8081, 'IPv6'],
    ['[fe80::1:2]:65535', 'fe80::1:2', 65535, 'IPv6'],
    ['localhost:9876', 'localhost', 9876, 'DOMAIN_NAME'],
    ['broker-0.broker.apogee.svc.cluster.local:8081', 'broker-0.broker.apogee.svc.cluster.local', 8081, 'DOMAIN_NAME'],
  ])('parses %s', (address, host, port, scheme) => {
    const parsed = parseBrokerAddress(address);
    expect(parsed).toEqual({ host, port, scheme });
    expect(formatBrokerAddress(parsed)).toBe(address);
  });

  it.each([
    ['', /host:port/],
    ['localhost', /host:port/],
    [':8081', /host:port/],
    ['localhost:', /port ""/],
    ['localhost:0', /port "0"/],
    ['localhost:65536', /port "65536"/],
    ['localhost:08081', /port "08081"/],
    ['localhost:+80', /port/],
    ['256.0.0.1:80', /above 255/],
    ['1.2.3:80', /neither/],
    ['::1:8081', /brackets/],
    ['[::1]8081', /\[address\]:port/],
    ['[zz::1]:80', /not an IPv6/],
    ['bad_host:80', /neither/],
    ['-bad.example:80', /neither/],
  ])('rejects %j', (address, message) => {
    expect(() => parseBrokerAddress(address)).toThrow(
      expect.objectContaining({ code: 'INVALID_BROKER_ADDRESS', message: expect.stringMatching(message) }),
    );
  });
});
