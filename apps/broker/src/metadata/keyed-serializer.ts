/**
 * Runs async tasks one after another per key, and tasks of different keys concurrently: a
 * metadata change reads the durable state left by the previous change of the same name (a
 * MetaTable shows a write only once it is fdatasync-ed), so "check, then write" holds.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? task() : previous.then(task);
    const tail = result.then(ignore, ignore); // a failed task does not block the next one
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }
}

function ignore(): void {}
