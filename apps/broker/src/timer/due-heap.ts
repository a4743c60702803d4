/** A binary min-heap of timers by due time (then commit-log order): the bucket about to fire. */
import type { TimerEntry } from './timer-bucket-file';

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.physicalOffset < b.physicalOffset);
}

export class DueHeap {
  private readonly items: TimerEntry[];

  /** Heapifies `entries` in place in O(n). */
  constructor(entries: TimerEntry[] = []) {
    this.items = entries;
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  push(entry: TimerEntry): void {
    this.items.push(entry);
    this.up(this.items.length - 1);
  }

  pop(): TimerEntry | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) return;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && before(items[left], items[least])) least = left;
      if (right < items.length && before(items[right], items[least])) least = right;
      if (least === i) return;
      [items[i], items[least]] = [items[least], items[i]];
      i = least;
    }
  }
}
