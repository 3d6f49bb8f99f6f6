import { KnnNonconformity } from './KnnNonconformity.js';
import { TailProbability } from './TailProbability.js';

/** Raw nonconformity values a calibrator needs before its first fit. */
const MIN_CALIBRATION = 50;
/** Refit the tails about every this many input values, whatever the scale. */
const REFIT_VALUES = 10;

export interface ScaleChannelConfig {
  /** Input values averaged into one point of this channel (1 = the raw series). */
  readonly factor: number;
  readonly window: number;
  readonly history: number;
  readonly neighbours: number;
  readonly contextMs: number;
  readonly calibration: number;
  readonly tailFraction: number;
}

/**
 * The series seen at one time scale: means of `factor` consecutive values, compared with their
 * own past (global and time-of-day nonconformity, {@link KnnNonconformity}) and each turned into a
 * tail probability ({@link TailProbability}). Coarse scales see slow drifts and remember further
 * back (`history` points of `factor` values each) for the same memory; the raw scale sees spikes
 * at once. The probabilities are held between the channel's points.
 */
export class ScaleChannel {
  private readonly knn: KnnNonconformity;
  private readonly globalTail: TailProbability;
  private readonly contextTail: TailProbability;
  private sum = 0;
  private count = 0;
  /** Tail probability of the newest point's global nonconformity (1 until calibrated). */
  pGlobal = 1;
  /** Same for the time-of-day nonconformity (1 until calibrated, or with no context). */
  pContext = 1;

  constructor(
    readonly config: ScaleChannelConfig,
    scratch: Float64Array,
  ) {
    const { factor, window, history, neighbours, contextMs, calibration, tailFraction } = config;
    const refitEvery = Math.max(1, Math.ceil(REFIT_VALUES / factor));
    this.knn = new KnnNonconformity(window, history, neighbours, contextMs);
    this.globalTail = new TailProbability(calibration, tailFraction, refitEvery, MIN_CALIBRATION, scratch);
    this.contextTail = new TailProbability(calibration, tailFraction, refitEvery, MIN_CALIBRATION, scratch);
  }

  /** Numbers held in this channel's rings, and the most it can ever hold. */
  get size(): number {
    return this.knn.size + this.globalTail.size + this.contextTail.size;
  }
  get capacity(): number {
    return this.knn.capacity + this.globalTail.capacity + this.contextTail.capacity;
  }

  /** Feeds one input value; `betaFloor` is the smallest tail scale, in nonconformity units. */
  update(value: number, timeMs: number, betaFloor: number): void {
    this.sum += value;
    if (++this.count < this.config.factor) return;
    const point = this.sum / this.count;
    this.sum = 0;
    this.count = 0;
    const knn = this.knn;
    knn.update(point, timeMs);
    this.pGlobal = 1;
    this.pContext = 1;
    if (knn.global >= 0) {
      this.pGlobal = this.globalTail.pValue(knn.global, betaFloor);
      this.globalTail.observe(knn.global);
    }
    if (knn.contextual >= 0) {
      this.pContext = this.contextTail.pValue(knn.contextual, betaFloor);
      this.contextTail.observe(knn.contextual);
    }
  }
}
