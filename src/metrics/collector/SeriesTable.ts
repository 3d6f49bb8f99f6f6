import type { BinsConfig } from './LogSketch.js';
import { Series } from './Series.js';
import type { BucketRing } from './TimeBucket.js';
import { emptyNode, insert, pathBytes, pathOf, remove, walk, type TagNode, type TagPath } from './TagTrie.js';
import type { ResolvedMetricsCollectorOptions } from './options.js';
import type { MetricTags, MetricType } from './types.js';

/** Tag set of the series that takes the values of tag sets past the limits (OTel's own name). */
export const OVERFLOW_TAGS: MetricTags = Object.freeze({ 'otel.metric.overflow': 'true' });
const EMPTY_TAGS: MetricTags = Object.freeze({});
const MAX_NAME_LENGTH = 255;
/** Trie paths per series beyond the canonical one (the same tags written in another key order). */
const MAX_ALIASES = 4;
const FAMILY_BYTES = 400;
/** After a reclaim, evict down to this share of the budget so reclaims stay rare. */
const RECLAIM_TO = 0.9;

/** All series of one metric name. */
export class Family {
  /** Tag trie; the root's value is the untagged series. */
  readonly root: TagNode<Series> = emptyNode();
  overflow: Series | undefined;
  readonly members: Series[] = [];

  constructor(
    readonly name: string,
    readonly type: MetricType,
  ) {}
}

const OVERFLOW_KEY = 'otel.metric.overflow';

function isOverflowPath(path: TagPath): boolean {
  return path.length === 1 && path[0]![0] === OVERFLOW_KEY && path[0]![1] === 'true';
}

interface Canonical {
  readonly path: TagPath;
  readonly tags: MetricTags;
  readonly tooMany: boolean;
}

/**
 * The series of a collector by name and tag set, with the limits that keep it bounded:
 * `maxSeries` regular series (later tag sets go to one overflow series per name), `maxNames`
 * names, `maxTagsPerSeries`, `maxTagLength`, and `maxMemoryBytes` for everything.
 */
export class SeriesTable {
  readonly families = new Map<string, Family>();
  readonly bins: BinsConfig;
  seriesCount = 0;
  regularCount = 0;
  /** Values written into overflow series (counted by the collector's write path). */
  overflowed = 0;
  evicted = 0;
  /** Buckets dropped before their time to stay under the memory budget. */
  trimmed = 0;
  /** Reclaim when the meter passes this (the budget, or higher after a reclaim that could not get under it). */
  reclaimAt: number;

  constructor(private readonly options: ResolvedMetricsCollectorOptions) {
    this.bins = { maxBins: options.maxSketchBins, wide: false, meter: { bytes: 0 } };
    this.reclaimAt = options.maxMemoryBytes;
  }

  get bytes(): number {
    return this.bins.meter.bytes;
  }

  /** Hot path: a Map get for the name, two per tag, no allocation. Undefined means drop. */
  resolve(name: string, tags: MetricTags | undefined, type: MetricType): Series | undefined {
    const family = this.families.get(name) ?? this.createFamily(name, type);
    if (family === undefined) return undefined;
    if (tags === undefined) return family.root.value ?? this.resolveSlow(family, EMPTY_TAGS);
    let series: Series | undefined;
    try {
      series = walk(family.root, tags);
    } catch {
      return undefined; // a tag value whose toString throws: drop the value, never the caller
    }
    return series ?? this.resolveSlow(family, tags);
  }

  /** The series of `name` with exactly `tags` (all of the name's series without tags); creates nothing. */
  find(name: string, tags: MetricTags | undefined): Series[] {
    const family = this.families.get(name);
    if (family === undefined) return [];
    if (tags === undefined) return family.members.slice();
    try {
      const direct = walk(family.root, tags);
      if (direct) return [direct];
      const canonical = this.canonical(tags);
      const s = canonical.tooMany ? undefined : walk(family.root, canonical.tags);
      return s ? [s] : [];
    } catch {
      return [];
    }
  }

  private createFamily(name: string, type: MetricType): Family | undefined {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) return undefined;
    if (this.families.size >= this.options.maxNames) return undefined;
    const family = new Family(name, type);
    this.families.set(name, family);
    this.bins.meter.bytes += FAMILY_BYTES + 2 * name.length;
    return family;
  }

  private resolveSlow(family: Family, tags: MetricTags): Series | undefined {
    try {
      const canonical = this.canonical(tags);
      // Too many tags, or the SDK's own overflow set (bridged): both are this name's overflow series.
      if (canonical.tooMany || isOverflowPath(canonical.path)) return this.overflowOf(family);
      let series = walk(family.root, canonical.tags);
      if (series === undefined) {
        if (this.regularCount >= this.options.maxSeries) return this.overflowOf(family);
        series = this.createSeries(family, canonical.tags, false);
        this.regularCount++;
        this.addPath(series, family, canonical.path);
      }
      // The same tags in another key order, or with values to cut: remember the way they came.
      if (series.paths.length <= MAX_ALIASES && walk(family.root, tags) !== series) this.addPath(series, family, pathOf(tags));
      return series;
    } catch {
      return undefined; // a tag value whose toString throws: drop the value, never the caller
    }
  }

  private overflowOf(family: Family): Series {
    if (family.overflow) return family.overflow;
    const series = this.createSeries(family, OVERFLOW_TAGS, true);
    family.overflow = series;
    this.addPath(series, family, pathOf(OVERFLOW_TAGS)); // so the overflow series can be queried by its tags
    return series;
  }

  private createSeries(family: Family, tags: MetricTags, overflow: boolean): Series {
    const series = new Series(family.name, family.type, tags, overflow, this.options.levels, this.bins);
    family.members.push(series);
    this.seriesCount++;
    this.bins.meter.bytes += series.baseBytes;
    return series;
  }

  private addPath(series: Series, family: Family, path: TagPath): void {
    insert(family.root, path, series);
    series.paths.push(path);
    const bytes = pathBytes(path);
    series.baseBytes += bytes;
    this.bins.meter.bytes += bytes;
  }

  /** Sorted, cut to `maxTagLength`, null/undefined values left out. */
  private canonical(tags: MetricTags): Canonical {
    const max = this.options.maxTagLength;
    const path: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const k in tags) {
      const raw = tags[k];
      if (raw === undefined || raw === null) continue;
      const key = k.length > max ? k.slice(0, max) : k;
      if (seen.has(key)) continue;
      seen.add(key);
      const s = typeof raw === 'string' ? raw : String(raw);
      path.push([key, s.length > max ? s.slice(0, max) : s]);
    }
    if (path.length > this.options.maxTagsPerSeries) return { path: [], tags: EMPTY_TAGS, tooMany: true };
    path.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const out: Record<string, string> = {};
    for (const [k, v] of path) out[k] = v;
    return { path, tags: Object.freeze(out), tooMany: false };
  }

  /**
   * Cold path, run when the meter passes the budget. In order, until under 90 % of it:
   * 1. free the buckets that left their level's window (no answer reads them any more);
   * 2. shorten history: drop every series' buckets older than a cutoff that moves from the
   *    longest level span towards the finest one (1 h → 1 min by default) in sixteen steps, so
   *    under pressure all series keep their recent data and lose their oldest;
   * 3. evict the least recently written series (those left empty by 2 go first). `keep`, the
   *    series being written, is never evicted.
   */
  reclaim(now: number, keep?: Series): void {
    this.forEachRing((ring) => ring.expire(now));
    const target = this.options.maxMemoryBytes * RECLAIM_TO;
    const spans = this.options.levels.map((l) => l.bucketMs * l.buckets);
    const longest = Math.max(...spans);
    const shortest = Math.min(...spans);
    for (let step = 1; step <= 16 && this.bytes > target; step++) {
      const cutoff = now - (longest - ((longest - shortest) * step) / 16);
      this.forEachRing((ring) => {
        this.trimmed += ring.dropBefore(cutoff);
      });
    }
    if (this.bytes > target) {
      const all: Series[] = [];
      for (const family of this.families.values()) for (const s of family.members) if (s !== keep) all.push(s);
      all.sort((a, b) => a.lastTimestamp - b.lastTimestamp);
      for (let i = 0; i < all.length && this.bytes > target; i++) this.evict(all[i]!);
    }
    // If even that could not get under the budget (a huge single series), wait for 10 % growth.
    this.reclaimAt = Math.max(this.options.maxMemoryBytes, this.bytes * 1.1);
  }

  private forEachRing(fn: (ring: BucketRing) => void): void {
    for (const family of this.families.values()) for (const s of family.members) for (const ring of s.rings) fn(ring);
  }

  private evict(series: Series): void {
    const family = this.families.get(series.name);
    if (family === undefined || !series.alive) return;
    series.alive = false;
    this.bins.meter.bytes -= series.bytes;
    for (const path of series.paths) remove(family.root, path, series);
    const i = family.members.indexOf(series);
    if (i >= 0) family.members.splice(i, 1);
    if (family.overflow === series) family.overflow = undefined;
    else this.regularCount--;
    this.seriesCount--;
    this.evicted++;
    if (family.members.length === 0) {
      this.families.delete(family.name);
      this.bins.meter.bytes -= FAMILY_BYTES + 2 * family.name.length;
    }
  }
}
