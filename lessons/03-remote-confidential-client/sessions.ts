/**
 * Where the server keeps what it must remember between requests: pending consents, sign-ins in
 * flight, authorization codes, the tokens it issued, and the sessions that hold each user's
 * Entra ID tokens.
 *
 * Everything goes through the small `SessionStore` interface, so a later lesson can move it to a
 * shared store (Redis, a database) without touching the OAuth code. The in-memory version here
 * forgets everything on restart, and works for one process only.
 */

/** A key-value store whose entries expire. Async, so that a networked store fits the same shape. */
export interface SessionStore<T> {
  /** The value, or undefined when it is unknown or expired. */
  get(key: string): Promise<T | undefined>;
  /** Stores `value` for `ttlSeconds`, replacing what was there. */
  set(key: string, value: T, ttlSeconds: number): Promise<void>;
  /** Reads and removes in one step, so that two requests can never both use a single-use value. */
  take(key: string): Promise<T | undefined>;
  delete(key: string): Promise<void>;
}

export interface MemoryStoreOptions {
  /** The clock, in epoch milliseconds (tests move it instead of sleeping). */
  now?: () => number;
  /** The most entries kept; beyond it, expired entries go first, then the oldest. */
  maxEntries?: number;
}

/**
 * An in-memory SessionStore with a time to live per entry and a bounded size, so that nobody can
 * fill the server's memory by starting sign-ins that never finish.
 */
export class MemorySessionStore<T> implements SessionStore<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async get(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async set(key: string, value: T, ttlSeconds: number): Promise<void> {
    this.entries.delete(key); // re-inserting moves the key to the end: the newest entry
    if (ttlSeconds <= 0) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    this.evict();
  }

  async take(key: string): Promise<T | undefined> {
    const value = await this.get(key);
    this.entries.delete(key);
    return value;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** How many entries are held right now, expired ones included until they are swept. */
  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
    // Still full: drop the oldest entries (a Map iterates in insertion order).
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
