/** Counters behind Encoder.status(), like bert-as-service's server_status. */
export interface WorkerStatus {
  device: string;
  batches: number;
  sentences: number;
  busyMs: number;
}

export interface PoolCounters {
  requests: number;
  sentences: number;
  /** real tokens, [CLS]/[SEP] included */
  tokens: number;
  batches: number;
  meanBatchSize: number;
  /** token positions computed, padding included */
  paddedTokens: number;
  /** share of the computed token positions that were padding */
  paddingRatio: number;
  workers: WorkerStatus[];
  /** batches by size: `counts[i]` batches had at most `bounds[i]` sentences (the last bound is Infinity) */
  batchSizeHistogram: { bounds: number[]; counts: number[] };
}

const BATCH_SIZE_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, Infinity];

export class PoolStatistics {
  #requests = 0;
  #sentences = 0;
  #tokens = 0;
  #batches = 0;
  #batchedSentences = 0;
  #realTokens = 0;
  #paddedTokens = 0;
  readonly #workers: WorkerStatus[];
  readonly #batchSizeCounts = BATCH_SIZE_BOUNDS.map(() => 0);

  constructor(devices: string[]) {
    this.#workers = devices.map((device) => ({ device, batches: 0, sentences: 0, busyMs: 0 }));
  }

  recordRequest(sentences: number): void {
    this.#requests++;
    this.#sentences += sentences;
  }

  /** tokens of sentences as they are tokenized (large calls are tokenized a chunk at a time) */
  recordTokens(tokens: number): void {
    this.#tokens += tokens;
  }

  recordBatch(worker: number, batchSize: number, seqLen: number, lengths: Int32Array, busyMs: number): void {
    this.#batches++;
    this.#batchedSentences += batchSize;
    this.#batchSizeCounts[BATCH_SIZE_BOUNDS.findIndex((bound) => batchSize <= bound)]++;
    this.#paddedTokens += batchSize * seqLen;
    for (const length of lengths) this.#realTokens += length;
    const status = this.#workers[worker];
    status.batches++;
    status.sentences += batchSize;
    status.busyMs += busyMs;
  }

  snapshot(): PoolCounters {
    return {
      requests: this.#requests,
      sentences: this.#sentences,
      tokens: this.#tokens,
      batches: this.#batches,
      meanBatchSize: this.#batches === 0 ? 0 : this.#batchedSentences / this.#batches,
      paddedTokens: this.#paddedTokens,
      paddingRatio: this.#paddedTokens === 0 ? 0 : 1 - this.#realTokens / this.#paddedTokens,
      workers: this.#workers.map((w) => ({ ...w })),
      batchSizeHistogram: { bounds: [...BATCH_SIZE_BOUNDS], counts: [...this.#batchSizeCounts] },
    };
  }
}
