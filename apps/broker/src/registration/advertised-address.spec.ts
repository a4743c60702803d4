import { advertisedAddressOf } from './advertised-address';

describe('advertisedAddressOf', () => {
  it.each([
    ['0.0.0.0', '', 8081, '127.0.0.1:8081'],
    ['::', '', 8081, '[::1]:8081'],
    ['10.0.0.7', '', 40123, '10.0.0.7:40123'],
    ['fd00::7', '', 8081, '[fd00::7]:8081'],
    ['0.0.0.0', 'broker-a.mq.svc:8081', 40123, 'broker-a.mq.svc:8081'],
  ])('binds %j, advertised %j, port %d: %j', (grpcHost, advertisedAddress, port, expected) => {
    expect(advertisedAddressOf({ grpcHost, advertisedAddress }, port)).toBe(expected);
  });
});
