/**
 * The emulator's state: codes, refresh tokens, device codes and sign-in sessions, each with an expiry.
 *
 * In tests it lives in memory. At run time it is written through to a JSON file, so that what one
 * process issued (a code from the sign-in page, a refresh token in a learner's token cache) is still
 * valid for the next process, and after the emulator restarts.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

interface Entry {
  value: unknown;
  /** Epoch milliseconds. */
  expiresAt: number;
}

type Collections = Record<string, Record<string, Entry>>;

/** Named collections of values with expiry, in memory or written through to a JSON file. */
export class EmulatorStore {
  private collections: Collections = {};

  /** @param file where to persist the state; in memory only when omitted. */
  constructor(
    private readonly now: () => number,
    private readonly file?: string,
  ) {
    if (file && existsSync(file)) {
      try {
        this.collections = JSON.parse(readFileSync(file, 'utf8')) as Collections;
      } catch {
        // A damaged state file only costs the learner a new sign-in: start afresh.
        this.collections = {};
      }
    }
  }

  /** The live value under `key`, or `undefined` when there is none or it has expired. */
  get<T>(collection: string, key: string): T | undefined {
    const entry = this.collections[collection]?.[key];
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.delete(collection, key);
      return undefined;
    }
    return entry.value as T;
  }

  /** Stores `value` under `key` for `ttlSeconds` seconds, replacing what was there. */
  put<T>(collection: string, key: string, value: T, ttlSeconds: number): void {
    (this.collections[collection] ??= {})[key] = { value, expiresAt: this.now() + ttlSeconds * 1000 };
    this.save();
  }

  /** Replaces a value, keeping its expiry. */
  update<T>(collection: string, key: string, value: T): void {
    const entry = this.collections[collection]?.[key];
    if (!entry) return;
    entry.value = value;
    this.save();
  }

  /** Removes the value under `key`, if any. */
  delete(collection: string, key: string): void {
    if (this.collections[collection]?.[key]) {
      delete this.collections[collection][key];
      this.save();
    }
  }

  /** Live entries of a collection. */
  entries<T>(collection: string): Array<[string, T]> {
    const now = this.now();
    return Object.entries(this.collections[collection] ?? {})
      .filter(([, entry]) => entry.expiresAt > now)
      .map(([key, entry]) => [key, entry.value as T]);
  }

  private save(): void {
    if (!this.file) return;
    const now = this.now();
    for (const entries of Object.values(this.collections)) {
      for (const [key, entry] of Object.entries(entries)) if (entry.expiresAt <= now) delete entries[key];
    }
    mkdirSync(path.dirname(this.file), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.collections), { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
