/**
 * The join of predictions to their ground-truth labels by event id: whichever of the two arrives first
 * waits for the other, for at most the TTL and within a bounded count. Pure: times are passed in (the
 * records' Kafka timestamps, and the clock expiry runs on), and a join is recorded in the tally of the
 * prediction's model version and variant.
 *
 * A prediction and a label join only when their timestamps lie within the TTL of each other, whatever
 * order they are read in: replaying the topics after a restart (predictions first) then gives the joins
 * that were made live, not more. What waits is kept in typed arrays by slot, with a map from event id to
 * slot whose insertion order is the arrival order expiry and the bounds go by.
 */
import { ConfigurationError } from '../errors/index.js';
import type { GroundTruthTallies } from './ground-truth.js';

export interface JoinBounds {
  /** How long a prediction waits for its label, and a label for its prediction, by record timestamps. */
  ttlMs: number;
  /** Predictions waiting at most; beyond it the oldest is pushed out and counts as expired. */
  maxPendingPredictions: number;
  /** Labels waiting for their prediction at most; beyond it the oldest is dropped. */
  maxPendingLabels: number;
}

export interface JoinCounts {
  pendingPredictions: number;
  pendingLabels: number;
  /** Predictions joined to a label, over every tally. */
  joined: number;
  /** Predictions whose label did not come within the TTL. */
  expiredPredictions: number;
  /** Predictions pushed out by maxPendingPredictions (counted in their tally's `expired` too). */
  evictedPredictions: number;
  /**
   * Labels that found no prediction within the TTL of theirs: it never came (an event this service did not
   * score, or a second label for an event already joined), or came too early or too late.
   */
  expiredLabels: number;
  /** Labels pushed out by maxPendingLabels. */
  evictedLabels: number;
  /** Labels replaced by a later label for the same event while they waited. */
  replacedLabels: number;
  /** Labels that were neither class label of their prediction's model. */
  unknownLabels: number;
}

/** Slots in typed arrays, handed out and taken back through a stack of free ones. */
class Slots {
  private readonly free: Int32Array;
  private freeCount: number;

  constructor(readonly capacity: number) {
    this.free = new Int32Array(capacity);
    for (let index = 0; index < capacity; index++) this.free[index] = capacity - 1 - index;
    this.freeCount = capacity;
  }

  take(): number {
    this.freeCount -= 1;
    return this.free[this.freeCount]!;
  }

  release(slot: number): void {
    this.free[this.freeCount] = slot;
    this.freeCount += 1;
  }
}

export class LabelJoin {
  private readonly predictionSlots: Slots;
  private readonly predictionSlotOf = new Map<string, number>();
  private readonly predictionTally: Int32Array;
  private readonly predictedPositive: Uint8Array;
  private readonly predictionEventTime: Float64Array;
  private readonly predictionArrivedAt: Float64Array;

  private readonly labelSlots: Slots;
  private readonly labelSlotOf = new Map<string, number>();
  private readonly labelValue: (string | undefined)[];
  private readonly labelTime: Float64Array;
  private readonly labelArrivedAt: Float64Array;

  private readonly counts: JoinCounts = {
    pendingPredictions: 0,
    pendingLabels: 0,
    joined: 0,
    expiredPredictions: 0,
    evictedPredictions: 0,
    expiredLabels: 0,
    evictedLabels: 0,
    replacedLabels: 0,
    unknownLabels: 0,
  };

  constructor(
    private readonly bounds: JoinBounds,
    private readonly tallies: GroundTruthTallies,
  ) {
    if (!(bounds.ttlMs > 0 && bounds.maxPendingPredictions >= 1 && bounds.maxPendingLabels >= 1)) {
      throw new ConfigurationError(
        'CONFIG_INVALID',
        'the label join needs a positive TTL and room for at least one waiting prediction and label',
      );
    }
    const predictions = bounds.maxPendingPredictions;
    this.predictionSlots = new Slots(predictions);
    this.predictionTally = new Int32Array(predictions);
    this.predictedPositive = new Uint8Array(predictions);
    this.predictionEventTime = new Float64Array(predictions);
    this.predictionArrivedAt = new Float64Array(predictions);
    const labels = bounds.maxPendingLabels;
    this.labelSlots = new Slots(labels);
    this.labelValue = new Array<string | undefined>(labels);
    this.labelTime = new Float64Array(labels);
    this.labelArrivedAt = new Float64Array(labels);
  }

  /**
   * A prediction of tally `tally` (GroundTruthTallies.indexOf); joins the label waiting for it, if any,
   * else waits. A second prediction for a waiting event replaces the first.
   */
  addPrediction(
    eventId: string,
    tally: number,
    predictedPositive: boolean,
    eventTime: number,
    arrivedAt: number,
  ): void {
    const labelSlot = this.labelSlotOf.get(eventId);
    if (labelSlot !== undefined) {
      const label = this.labelValue[labelSlot]!;
      const labelTime = this.labelTime[labelSlot]!;
      const labelArrivedAt = this.labelArrivedAt[labelSlot]!;
      this.dropLabel(eventId, labelSlot);
      if (Math.abs(arrivedAt - labelArrivedAt) > this.bounds.ttlMs) this.counts.expiredLabels += 1;
      else if (this.tallies.at(tally).record(predictedPositive, eventTime, label, labelTime)) {
        this.counts.joined += 1;
        return;
      } else this.counts.unknownLabels += 1;
    }
    let slot = this.predictionSlotOf.get(eventId);
    if (slot === undefined) {
      if (this.counts.pendingPredictions === this.bounds.maxPendingPredictions) {
        this.evictOldestPrediction();
      }
      slot = this.predictionSlots.take();
      this.predictionSlotOf.set(eventId, slot);
      this.counts.pendingPredictions += 1;
    }
    this.predictionTally[slot] = tally;
    this.predictedPositive[slot] = predictedPositive ? 1 : 0;
    this.predictionEventTime[slot] = eventTime;
    this.predictionArrivedAt[slot] = arrivedAt;
  }

  /**
   * A label; joins the prediction waiting for it, if any, else waits (replacing a label still waiting for
   * the same event). A label that is neither class label of the prediction's model leaves it waiting.
   */
  addLabel(eventId: string, label: string, labelTime: number, arrivedAt: number): void {
    const predictionSlot = this.predictionSlotOf.get(eventId);
    if (predictionSlot !== undefined) {
      const tally = this.tallies.at(this.predictionTally[predictionSlot]!);
      if (Math.abs(arrivedAt - this.predictionArrivedAt[predictionSlot]!) > this.bounds.ttlMs) {
        // Live, the prediction would have expired before this label came: so it does here.
        tally.expired += 1;
        this.counts.expiredPredictions += 1;
        this.dropPrediction(eventId, predictionSlot);
        this.counts.expiredLabels += 1;
        return;
      }
      const predictedPositive = this.predictedPositive[predictionSlot] === 1;
      const eventTime = this.predictionEventTime[predictionSlot]!;
      if (tally.record(predictedPositive, eventTime, label, labelTime)) {
        this.dropPrediction(eventId, predictionSlot);
        this.counts.joined += 1;
      } else this.counts.unknownLabels += 1;
      return;
    }
    let slot = this.labelSlotOf.get(eventId);
    if (slot === undefined) {
      if (this.counts.pendingLabels === this.bounds.maxPendingLabels) this.evictOldestLabel();
      slot = this.labelSlots.take();
      this.labelSlotOf.set(eventId, slot);
      this.counts.pendingLabels += 1;
    } else this.counts.replacedLabels += 1;
    this.labelValue[slot] = label;
    this.labelTime[slot] = labelTime;
    this.labelArrivedAt[slot] = arrivedAt;
  }

  /**
   * Drops what waited longer than the TTL at `now`, oldest arrival first. Arrival order across partitions
   * only roughly follows the timestamps, so an entry can outlive its TTL until the ones that arrived before
   * it are due; its join is judged by timestamps all the same.
   */
  expire(now: number): void {
    const cutoff = now - this.bounds.ttlMs;
    for (const [eventId, slot] of this.predictionSlotOf) {
      if (this.predictionArrivedAt[slot]! >= cutoff) break;
      this.tallies.at(this.predictionTally[slot]!).expired += 1;
      this.counts.expiredPredictions += 1;
      this.dropPrediction(eventId, slot);
    }
    for (const [eventId, slot] of this.labelSlotOf) {
      if (this.labelArrivedAt[slot]! >= cutoff) break;
      this.counts.expiredLabels += 1;
      this.dropLabel(eventId, slot);
    }
  }

  /** A copy of the counts. */
  snapshot(): JoinCounts {
    return { ...this.counts };
  }

  private evictOldestPrediction(): void {
    const [eventId, slot] = this.predictionSlotOf.entries().next().value!;
    this.tallies.at(this.predictionTally[slot]!).expired += 1;
    this.counts.evictedPredictions += 1;
    this.dropPrediction(eventId, slot);
  }

  private evictOldestLabel(): void {
    const [eventId, slot] = this.labelSlotOf.entries().next().value!;
    this.counts.evictedLabels += 1;
    this.dropLabel(eventId, slot);
  }

  private dropPrediction(eventId: string, slot: number): void {
    this.predictionSlotOf.delete(eventId);
    this.predictionSlots.release(slot);
    this.counts.pendingPredictions -= 1;
  }

  private dropLabel(eventId: string, slot: number): void {
    this.labelSlotOf.delete(eventId);
    this.labelValue[slot] = undefined;
    this.labelSlots.release(slot);
    this.counts.pendingLabels -= 1;
  }
}
