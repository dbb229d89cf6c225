/**
 * A bounded queue read as an async iterator: producers `push`, one consumer iterates.
 * Unlike an async generator, `return()` ends the iteration at once even while the consumer
 * is waiting for the next value — graphql-ws calls `return()` on unsubscribe and on socket
 * close, and a generator parked on an `await` would never run its cleanup.
 */

/** What a full queue does with one more value. */
export type OverflowPolicy = 'drop-oldest' | 'signal';

export interface AsyncQueueOptions {
  /** most values held for a slow consumer; default 10 000 */
  limit?: number;
  /** `drop-oldest` (default) forgets the oldest value; `signal` clears the queue and marks it overflowed */
  overflow?: OverflowPolicy;
  /** runs once when the iteration ends, however it ends */
  onClose?: () => void;
}

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly values: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;
  /** set by a `signal` overflow; the consumer reads and clears it with `takeOverflow()` */
  private overflowed = false;

  constructor(private readonly options: AsyncQueueOptions = {}) {}

  get isClosed(): boolean {
    return this.closed;
  }

  push(value: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
      return;
    }
    if (this.values.length >= (this.options.limit ?? 10_000)) {
      if (this.options.overflow === 'signal') {
        this.values.length = 0;
        this.overflowed = true;
        return;
      }
      this.values.shift();
    }
    this.values.push(value);
  }

  /** Nothing queued or dropped, and no consumer waiting: everything pushed so far has been taken. */
  get drained(): boolean {
    return !this.values.length && !this.overflowed && !this.waiting && !this.closed;
  }

  /** True once after the queue overflowed under the `signal` policy (its values were dropped). */
  takeOverflow(): boolean {
    const overflowed = this.overflowed;
    this.overflowed = false;
    return overflowed;
  }

  /** Drops everything queued (the consumer re-read it from elsewhere). */
  clear(): void {
    this.values.length = 0;
  }

  /** Ends the iteration: a waiting consumer gets `done`, later pushes are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.values.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    this.options.onClose?.();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.values.length) return Promise.resolve({ value: this.values.shift()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
