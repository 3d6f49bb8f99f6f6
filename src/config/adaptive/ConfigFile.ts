import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { diag } from '@opentelemetry/api';
import { z } from 'zod';
import type { ConfigHistoryEntry } from './types.js';

/** What is saved: the current version and the history (which ends with it). */
export interface SavedState {
  version: number;
  current: ConfigHistoryEntry;
  history: ConfigHistoryEntry[];
}

export type LoadResult =
  | { kind: 'loaded'; state: SavedState; file: string; fromBackup: boolean }
  | { kind: 'missing' }
  | { kind: 'unreadable' };

const FORMAT = 1;

const entrySchema = z.object({
  parameters: z.record(z.string(), z.union([z.boolean(), z.number(), z.string()])),
  timestamp: z.number(),
  version: z.number().int().min(1),
  fitnessScore: z.number().optional(),
  source: z.enum(['static', 'dynamic', 'optimized']),
  cause: z.enum(['add', 'update', 'remove', 'reset-to-default', 'apply-complete', 'apply-chromosome', 'batch', 'initial', 'rollback', 'load']),
  changedKeys: z.array(z.string()),
  verification: z
    .object({
      before: z.number(),
      after: z.number().optional(),
      outcome: z.enum(['pending', 'kept', 'rolled-back', 'superseded', 'cancelled']),
    })
    .optional(),
});

const fileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.number().int().min(1),
  current: entrySchema,
  history: z.array(entrySchema),
  checksum: z.string(),
});

function checksumOf(payload: { format: unknown; version: unknown; current: unknown; history: unknown }): string {
  // Rebuilt in one key order so the sum read back covers exactly the bytes that were summed.
  const body = JSON.stringify({ format: payload.format, version: payload.version, current: payload.current, history: payload.history });
  return createHash('sha256').update(body).digest('hex');
}

type ReadResult = { kind: 'ok'; state: SavedState } | { kind: 'missing' } | { kind: 'bad'; reason: string };

/**
 * The saved configuration. A save writes `<path>.tmp`, fsyncs it, copies the previous good file
 * to `<path>.bak` and renames the temp file over `<path>`, so a crash leaves either the old or
 * the new file whole; a file torn or edited anyway fails its sha256 and the `.bak` is used.
 * Saves are serialised and coalesced: a burst of changes costs one write after the one running.
 */
export class ConfigFile {
  private readonly tmp: string;
  readonly backup: string;
  /** Whether `path` holds a good copy, so that it may become the backup. */
  private primaryGood = true;
  private writing: Promise<void> | undefined;
  private requested: (() => SavedState) | undefined;

  constructor(readonly path: string) {
    this.tmp = `${path}.tmp`;
    this.backup = `${path}.bak`;
  }

  /** Reads the file, or its backup when it is torn or corrupt (with a warning naming both). */
  load(): LoadResult {
    const primary = this.read(this.path);
    if (primary.kind === 'ok') {
      this.primaryGood = true;
      return { kind: 'loaded', state: primary.state, file: this.path, fromBackup: false };
    }
    if (primary.kind === 'missing') return { kind: 'missing' };
    this.primaryGood = false;
    const backup = this.read(this.backup);
    if (backup.kind === 'ok') {
      diag.warn(
        `otel-self-heal: the saved configuration ${this.path} is unusable (${primary.reason}); ` +
          `using the last good copy ${this.backup} (version ${backup.state.version})`,
      );
      return { kind: 'loaded', state: backup.state, file: this.backup, fromBackup: true };
    }
    const why = backup.kind === 'missing' ? 'there is none' : backup.reason;
    diag.warn(
      `otel-self-heal: the saved configuration ${this.path} is unusable (${primary.reason}) ` +
        `and so is its last good copy ${this.backup} (${why}); starting from the initial configuration`,
    );
    return { kind: 'unreadable' };
  }

  /** Saves `snapshot()` (taken when the write starts, so the newest state is written). */
  save(snapshot: () => SavedState): Promise<void> {
    this.requested = snapshot;
    return (this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    }));
  }

  /** Resolves when no save is running (rejects if the last one failed). */
  idle(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    let failure: unknown;
    for (let snapshot = this.requested; snapshot !== undefined; snapshot = this.requested) {
      this.requested = undefined;
      try {
        await this.write(snapshot());
        failure = undefined;
      } catch (err) {
        failure = err; // a later request may still succeed; the last outcome is what callers see
      }
    }
    if (failure !== undefined) throw failure;
  }

  private async write(state: SavedState): Promise<void> {
    const payload = { format: FORMAT, version: state.version, current: state.current, history: state.history };
    const text = JSON.stringify({ ...payload, checksum: checksumOf(payload) });
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.tmp, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (this.primaryGood) await this.copyToBackup();
    await rename(this.tmp, this.path);
    await syncDirectory(dirname(this.path));
    this.primaryGood = true;
  }

  private async copyToBackup(): Promise<void> {
    try {
      await copyFile(this.path, `${this.backup}.tmp`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // first save: nothing to keep
      throw err;
    }
    await rename(`${this.backup}.tmp`, this.backup);
  }

  private read(file: string): ReadResult {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'bad', reason: `cannot be read: ${(err as Error).message}` };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { kind: 'bad', reason: 'not valid JSON: torn or truncated write?' };
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) return { kind: 'bad', reason: 'not a saved configuration of this format' };
    if (checksumOf(raw as SavedState & { format: unknown }) !== parsed.data.checksum) return { kind: 'bad', reason: 'checksum mismatch' };
    const { version, current, history } = parsed.data;
    return { kind: 'ok', state: { version, current, history } };
  }
}

/** Makes the rename itself durable; not supported everywhere (Windows), where it is skipped. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close();
  }
}
