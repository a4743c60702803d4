import { EventEmitter } from 'node:events';
import { installShutdown, type SignalSource } from './shutdown';

class FakeProcess extends EventEmitter implements SignalSource {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

async function settle(proc: FakeProcess, count: number): Promise<void> {
  for (let i = 0; i < 100 && proc.exits.length < count; i++) await new Promise((r) => setImmediate(r));
}

describe('installShutdown', () => {
  it('runs hooks once in reverse order on SIGTERM, then exits 0', async () => {
    const proc = new FakeProcess();
    const order: string[] = [];
    const shutdown = installShutdown({ logger: silent, process: proc });
    shutdown.add('first', () => void order.push('first'));
    shutdown.add('second', async () => void order.push('second'));
    proc.emit('SIGTERM', 'SIGTERM');
    await settle(proc, 1);
    expect(order).toEqual(['second', 'first']);
    expect(proc.exits).toEqual([0]);
    shutdown.uninstall();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('exits 1 when a hook throws, after running the others', async () => {
    const proc = new FakeProcess();
    const ran: string[] = [];
    const shutdown = installShutdown({ logger: silent, process: proc });
    shutdown.add('a', () => void ran.push('a'));
    shutdown.add('b', () => {
      throw new Error('boom');
    });
    proc.emit('SIGINT', 'SIGINT');
    await settle(proc, 1);
    expect(ran).toEqual(['a']);
    expect(proc.exits).toEqual([1]);
    shutdown.uninstall();
  });

  it('forces exit 1 on a second signal while hooks run, ignoring repeats within the window', async () => {
    const proc = new FakeProcess();
    const clock = { now: () => 0 };
    const shutdown = installShutdown({ logger: silent, process: proc, clock, repeatWindowMs: 1_000 });
    let release = (): void => {};
    shutdown.add('slow', () => new Promise<void>((r) => (release = r)));
    proc.emit('SIGINT', 'SIGINT');
    clock.now = () => 999;
    proc.emit('SIGTERM', 'SIGTERM'); // the same Ctrl-C, forwarded by a supervisor
    expect(proc.exits).toEqual([]);
    clock.now = () => 5_000;
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.exits).toEqual([1]);
    release();
    await settle(proc, 2);
    shutdown.uninstall();
  });
});
