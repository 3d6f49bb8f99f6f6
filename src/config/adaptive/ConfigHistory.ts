import type { ConfigHistoryEntry } from './types.js';

/** The last `capacity` versions, oldest first; the current version is always the last. */
export class ConfigHistory {
  private entries: ConfigHistoryEntry[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.length;
  }

  push(entry: ConfigHistoryEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  find(version: number): ConfigHistoryEntry | undefined {
    return this.entries.find((e) => e.version === version);
  }

  /** The version kept just before `version` (what rolling it back restores). */
  before(version: number): ConfigHistoryEntry | undefined {
    const i = this.entries.findIndex((e) => e.version === version);
    return i > 0 ? this.entries[i - 1] : undefined;
  }

  /** Replaces the entry of `version` by `update(entry)`; returns the new entry. */
  replace(version: number, update: (entry: ConfigHistoryEntry) => ConfigHistoryEntry): ConfigHistoryEntry | undefined {
    const i = this.entries.findIndex((e) => e.version === version);
    if (i < 0) return undefined;
    return (this.entries[i] = update(this.entries[i]!));
  }

  list(): readonly ConfigHistoryEntry[] {
    return [...this.entries];
  }

  /** Replaces every entry (a saved history being loaded), keeping the newest `capacity`. */
  reset(entries: readonly ConfigHistoryEntry[]): void {
    this.entries = entries.slice(-this.capacity);
  }
}
