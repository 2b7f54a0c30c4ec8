/**
 * Pending sentences bucketed by token length. Batches are cut around the oldest sentence (so no
 * request starves) from the buckets nearest its length (so padding stays small), in
 * O(maxSeqLen + batch) per batch however long the queue is.
 */
export interface QueuedSentence<R> {
  request: R;
  /** row of the sentence in its request's output */
  row: number;
  ids: number[];
  typeIds: number[];
  /** the row's own integers for its head (the head's payloadWidth of them), opaque here */
  payload?: ArrayLike<number>;
  /** arrival order, for fairness */
  sequence: number;
}

export interface BatchLimits {
  maxBatchSize: number;
  /** padded cost: batch size × longest length */
  maxBatchTokens: number;
  /**
   * 'length' (default): sentences of similar length batch together. 'arrival': strictly in
   * arrival order, as a fixed-order batcher would; kept to measure what the sort buys (bench/).
   */
  order?: 'length' | 'arrival';
}

export class PendingQueue<R> {
  readonly #buckets: QueuedSentence<R>[][] = [];
  readonly #heads: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** entries the buckets still hold, taken ones included; stays within about twice `size` */
  get retainedEntries(): number {
    return this.#buckets.reduce((sum, bucket) => sum + bucket.length, 0);
  }

  /** `sequence` orders arrivals across every queue of a scheduler. */
  push(request: R, row: number, sentence: { ids: number[]; typeIds: number[]; payload?: ArrayLike<number> }, sequence: number): void {
    const { ids, typeIds, payload } = sentence;
    const length = ids.length;
    while (this.#buckets.length <= length) {
      this.#buckets.push([]);
      this.#heads.push(0);
    }
    this.#buckets[length].push({ request, row, ids, typeIds, payload, sequence });
    this.#size++;
  }

  /** Drops the sentences `isDead` picks (cancelled requests), wherever they wait. */
  prune(isDead: (sentence: QueuedSentence<R>) => boolean): void {
    for (let length = 0; length < this.#buckets.length; length++) {
      const live = this.#bucket(length).filter((sentence) => !isDead(sentence));
      this.#size -= this.#buckets[length].length - this.#heads[length] - live.length;
      this.#buckets[length] = live;
      this.#heads[length] = 0;
    }
  }

  /**
   * Takes a batch: the oldest sentence, then sentences from the buckets closest to its length,
   * alternating shorter and longer, while the batch stays within `limits`.
   */
  takeBatch(limits: BatchLimits): QueuedSentence<R>[] {
    const oldestLength = this.#oldestLength();
    if (oldestLength < 0) return [];
    const batch: QueuedSentence<R>[] = [];
    let longest = 0;
    const fits = (length: number): boolean =>
      batch.length < limits.maxBatchSize && (batch.length + 1) * Math.max(longest, length) <= Math.max(limits.maxBatchTokens, length);
    if (limits.order === 'arrival') {
      for (let length = oldestLength; length >= 0 && fits(length); length = this.#oldestLength()) {
        batch.push(this.#buckets[length][this.#heads[length]++]);
        this.#size--;
        longest = Math.max(longest, length);
        this.#compact(length);
      }
      return batch;
    }
    const drain = (length: number): boolean => {
      let fitted = true;
      while (this.#heads[length] < this.#buckets[length].length) {
        if (!fits(length)) {
          fitted = false;
          break;
        }
        batch.push(this.#buckets[length][this.#heads[length]++]);
        this.#size--;
        longest = Math.max(longest, length);
      }
      this.#compact(length);
      return fitted;
    };
    if (!drain(oldestLength)) return batch;
    // A shorter bucket that does not fit means the batch is full; a longer one only that longer
    // sentences no longer fit, so shorter ones are still taken.
    let longerOpen = true;
    for (let distance = 1; distance < this.#buckets.length; distance++) {
      const shorter = oldestLength - distance;
      const longer = oldestLength + distance;
      if (shorter < 0 && (!longerOpen || longer >= this.#buckets.length)) break;
      if (shorter >= 0 && !drain(shorter)) break;
      if (longerOpen && longer < this.#buckets.length) longerOpen = drain(longer);
    }
    return batch;
  }

  /** Arrival number of the oldest waiting sentence; Infinity when none waits. */
  oldestSequence(): number {
    const length = this.#oldestLength();
    return length < 0 ? Infinity : this.#buckets[length][this.#heads[length]].sequence;
  }

  #bucket(length: number): QueuedSentence<R>[] {
    return this.#buckets[length].slice(this.#heads[length]);
  }

  /**
   * Drops taken sentences from the front of a bucket. A bucket that never empties (sentences of a
   * common length keep arriving) would otherwise keep every sentence it ever held, and with them
   * their calls' outputs.
   */
  #compact(length: number): void {
    const head = this.#heads[length];
    const bucket = this.#buckets[length];
    if (head === bucket.length) {
      this.#buckets[length] = [];
      this.#heads[length] = 0;
    } else if (head >= 64 && head * 2 >= bucket.length) {
      this.#buckets[length] = bucket.slice(head);
      this.#heads[length] = 0;
    }
  }

  #oldestLength(): number {
    let best = -1;
    let bestSequence = Infinity;
    for (let length = 0; length < this.#buckets.length; length++) {
      const head = this.#buckets[length][this.#heads[length]];
      if (head && head.sequence < bestSequence) {
        best = length;
        bestSequence = head.sequence;
      }
    }
    return best;
  }
}
