import { ClientLeases } from './client-leases';

const lease = (receiptHandle: string, invisibleUntilMs = 10_000) => ({ group: 'g', topic: 't', receiptHandle, invisibleUntilMs });

describe('ClientLeases', () => {
  it('hands back what a client still holds, once', () => {
    const leases = new ClientLeases();
    leases.hold('c1', lease('h1'), 0);
    leases.hold('c1', lease('h2'), 0);
    leases.hold('c1', lease('h3', 50), 0);
    leases.hold('c2', lease('h4'), 0);
    leases.forget('h2'); // acked
    expect(leases.take('c1', 100).map((l) => l.receiptHandle)).toEqual(['h1']); // h3 expired already
    expect(leases.take('c1', 100)).toEqual([]);
    expect(leases.size).toBe(1);
  });

  it('prunes expired leases as new ones come, so memory follows what is held', () => {
    const leases = new ClientLeases();
    for (let i = 0; i < 1_000; i++) leases.hold('c1', lease(`h${i}`, i), i);
    expect(leases.size).toBeLessThan(300);
  });
});
