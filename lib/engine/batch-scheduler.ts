/**
 * The scheduler between encode() calls and the model replicas. Every call is queued sentence by
 * sentence; whenever a replica is idle, a batch is cut from the queue (small calls first, then
 * around the oldest sentence, from sentences of similar length), padded only to its own longest
 * sentence, and its rows are copied back into each call's output in request order.
 *
 * Large calls are tokenized a chunk at a time, only while fewer than `tokenizeWindow` sentences
 * wait, so memory follows the queue rather than the input and the event loop never stalls on a
 * long tokenization.
 */
import { BertEmbedError, fromNativeError } from '../errors.js';
import { namingError } from '../validation.js';
import type { NativeBatch, NativeEncodeOutput, NativeHeadSpec } from '../native/binding.js';
import { PendingQueue, type BatchLimits, type QueuedSentence } from './pending-queue.js';
import { PoolStatistics } from './pool-statistics.js';

export interface SchedulerLimits extends BatchLimits {
  /** calls with at most this many sentences jump ahead of larger ones */
  priorityBatchSize: number;
  /** beyond this many unfinished sentences a call is refused with ERR_OVERLOADED */
  maxQueuedSentences: number;
  /** tokenized sentences kept waiting; the length sort chooses among these */
  tokenizeWindow: number;
}

/** Runs one padded batch on one model replica. */
export interface Replica {
  readonly device: string;
  encode(batch: NativeBatch): Promise<NativeEncodeOutput>;
}

export interface TokenizedSentence {
  ids: number[];
  typeIds: number[];
  /** integers the head reads beside the row's tokens (its payloadWidth of them); opaque to the engine */
  payload?: ArrayLike<number>;
}

export interface ScheduledEncode {
  count: number;
  /** tokenizes rows [start, end) of the call's input */
  tokenize(start: number, end: number): TokenizedSentence[];
  /** what runs on the hidden states; calls with equal heads share batches */
  head: NativeHeadSpec;
  /** floats per sentence in the output */
  rowWidth: number;
  signal?: AbortSignal;
  /** names row `row` of the call in messages (default: `row N of the call`) */
  rowLabel?: (row: number) => string;
  /** names the call's input and says what its rows are, for a call larger than the whole queue (default: texts, N sentences) */
  inputs?: { field: string; rows: (count: number) => string };
}

/**
 * A call whose answer holds NaN or an infinity (float16 overflow, or extreme weights): it fails as
 * a whole rather than hand out a number no JSON can carry. `row` is the row of the call.
 */
export class NonFiniteOutputError extends BertEmbedError {
  constructor(
    readonly row: number,
    readonly value: number,
    label: string,
    element: number,
    width: number,
  ) {
    super(
      `The model's output for ${label} is not finite (${value} at element ${element} of ${width}), so the call fails rather than ` +
        'answer with an invalid number. Float16 overflow or extreme weights in the checkpoint cause this; float32 may avoid it.',
      'ERR_NON_FINITE',
    );
  }
}

/**
 * Index of the first NaN or infinity in `values`, or -1. The common case is a branch-free pass
 * (x * 0 is 0 for every finite x, NaN otherwise, and a NaN stays in the sum), about twice as fast
 * as testing each value; only a row that fails it is searched.
 */
function firstNonFinite(values: Float32Array): number {
  const n = values.length;
  let sum = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) sum += values[i] * 0 + values[i + 1] * 0 + values[i + 2] * 0 + values[i + 3] * 0;
  for (; i < n; i++) sum += values[i] * 0;
  if (sum === 0) return -1;
  for (let j = 0; j < n; j++) {
    const value = values[j];
    if (value - value !== 0) return j; // NaN - NaN and Infinity - Infinity are NaN
  }
  return -1;
}

/**
 * A call larger than the whole queue can never be accepted, however idle the encoder: refused for good
 * (ERR_TOO_MANY_SENTENCES), not as "retry later". Its words (call, the limit's name, the input's field)
 * are fields of the message, so that a surface names them its way ("request", "--max-queued", "inputs").
 */
function tooManyRows(call: ScheduledEncode, limit: number): BertEmbedError {
  const { field, rows } = call.inputs ?? { field: 'texts', rows: (count: number) => `${count} sentences` };
  return namingError(
    (message) => new BertEmbedError(message, 'ERR_TOO_MANY_SENTENCES'),
    (naming) =>
      `Expected at most ${limit} queued sentences in one ${naming.field('call')} (${naming.field('maxQueuedSentences')}) for ${naming.field(field)} ` +
      `but received ${rows(call.count)}; split the ${naming.field('call')}`,
  );
}

/** At most this many small-call batches in a row while large calls wait. */
const PRIORITY_STREAK = 4;

/** Sentences tokenized per step; about a millisecond of tokenizer work. */
const TOKENIZE_CHUNK = 256;

class PendingRequest {
  readonly output: Float32Array;
  remaining: number;
  nextRow = 0;
  settled = false;
  /** removes the abort listener, so long-lived signals do not collect one per call */
  detach: () => void = () => undefined;

  constructor(
    readonly call: ScheduledEncode,
    readonly priority: boolean,
    readonly resolve: (output: Float32Array) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.output = new Float32Array(call.count * call.rowWidth);
    this.remaining = call.count;
  }
}

/** Sentences that can share a batch: same head (and pooling), and same priority class. */
interface HeadGroup {
  head: NativeHeadSpec;
  priority: PendingQueue<PendingRequest>;
  normal: PendingQueue<PendingRequest>;
}

interface ReplicaSlot {
  replica: Replica;
  busy: boolean;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function isOutOfMemory(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'ERR_OUT_OF_MEMORY' || /out of memory/i.test(message ?? '');
}

export class BatchScheduler {
  readonly statistics: PoolStatistics;
  readonly #slots: ReplicaSlot[];
  readonly #limits: SchedulerLimits;
  readonly #padId: number;
  readonly #groups = new Map<string, HeadGroup>();
  /** calls with rows still to tokenize, oldest first */
  readonly #untokenized: PendingRequest[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  /** sentences of calls not yet settled, for backpressure */
  #outstanding = 0;
  /** tokenized sentences waiting for a batch */
  #queued = 0;
  #inFlight = 0;
  #nextSequence = 0;
  #refillScheduled = false;
  /** priority batches run in a row while large calls waited */
  #priorityStreak = 0;

  constructor(replicas: Replica[], limits: SchedulerLimits, padId: number) {
    this.#slots = replicas.map((replica) => ({ replica, busy: false }));
    this.#limits = limits;
    this.#padId = padId;
    this.statistics = new PoolStatistics(replicas.map((r) => r.device));
  }

  /** tokenized sentences waiting for a batch */
  get queuedSentences(): number {
    return this.#queued;
  }

  /** sentences of unfinished calls: queued, being encoded, or not yet tokenized */
  get outstandingSentences(): number {
    return this.#outstanding;
  }

  get busyReplicas(): number {
    return this.#inFlight;
  }

  submit(call: ScheduledEncode): Promise<Float32Array> {
    if (call.signal?.aborted) return Promise.reject(abortError(call.signal));
    if (call.count > this.#limits.maxQueuedSentences) return Promise.reject(tooManyRows(call, this.#limits.maxQueuedSentences));
    if (this.#outstanding + call.count > this.#limits.maxQueuedSentences) {
      return Promise.reject(
        new BertEmbedError(
          `The encoder is overloaded: ${this.#outstanding} sentences are waiting and this call adds ${call.count}, ` +
            `over maxQueuedSentences ${this.#limits.maxQueuedSentences}; retry later or raise maxQueuedSentences`,
          'ERR_OVERLOADED',
        ),
      );
    }
    this.statistics.recordRequest(call.count);
    if (call.count === 0) return Promise.resolve(new Float32Array(0));

    return new Promise<Float32Array>((resolve, reject) => {
      const priority = call.count <= this.#limits.priorityBatchSize;
      const request = new PendingRequest(call, priority, resolve, reject);
      this.#outstanding += call.count;
      const signal = call.signal;
      if (signal) {
        const onAbort = (): void => this.#fail(request, abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        request.detach = () => signal.removeEventListener('abort', onAbort);
      }
      if (priority) {
        // Small calls are tokenized at once, whatever waits: they go first anyway.
        this.#tokenizeRows(request, call.count);
      } else {
        this.#untokenized.push(request);
        this.#refill(true);
      }
      this.#pump();
    });
  }

  /** Resolves once nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.#outstanding === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #groupFor(head: NativeHeadSpec): HeadGroup {
    const key = JSON.stringify(head);
    let group = this.#groups.get(key);
    if (!group) {
      group = { head, priority: new PendingQueue(), normal: new PendingQueue() };
      this.#groups.set(key, group);
    }
    return group;
  }

  #tokenizeRows(request: PendingRequest, rows: number): void {
    const start = request.nextRow;
    const end = Math.min(request.call.count, start + rows);
    const group = this.#groupFor(request.call.head);
    const queue = request.priority ? group.priority : group.normal;
    const sentences = request.call.tokenize(start, end);
    let tokens = 0;
    sentences.forEach((sentence, i) => {
      queue.push(request, start + i, sentence, this.#nextSequence++);
      tokens += sentence.ids.length;
    });
    this.statistics.recordTokens(tokens);
    this.#queued += end - start;
    request.nextRow = end;
  }

  /**
   * Tokenizes the oldest large calls until the window is full: one chunk now when `now` (so a
   * batch can start at once), the rest a chunk per turn of the event loop.
   */
  #refill(now: boolean): void {
    if (now) this.#refillChunk();
    if (this.#refillScheduled || this.#queued >= this.#limits.tokenizeWindow || this.#untokenized.length === 0) return;
    this.#refillScheduled = true;
    setImmediate(() => {
      this.#refillScheduled = false;
      this.#refillChunk();
      this.#pump();
      this.#refill(false);
    });
  }

  #refillChunk(): void {
    const request = this.#untokenized[0];
    if (!request || this.#queued >= this.#limits.tokenizeWindow) return;
    try {
      this.#tokenizeRows(request, Math.min(TOKENIZE_CHUNK, this.#limits.tokenizeWindow - this.#queued));
    } catch (error) {
      this.#fail(request, error);
      return;
    }
    if (request.nextRow === request.call.count) this.#untokenized.shift();
  }

  /**
   * The queue to cut the next batch from: small calls first, else the oldest sentence's. So that
   * a steady stream of small calls cannot starve large ones, every PRIORITY_STREAK-th batch in a
   * row goes to the large calls when any wait.
   */
  #nextQueue(): { group: HeadGroup; queue: PendingQueue<PendingRequest> } | undefined {
    let priority: { group: HeadGroup; queue: PendingQueue<PendingRequest>; oldest: number } | undefined;
    let normal: typeof priority;
    for (const [key, group] of this.#groups) {
      if (group.priority.size === 0 && group.normal.size === 0) {
        this.#groups.delete(key); // a per-call pooling override nobody uses any more
        continue;
      }
      if (group.priority.size > 0 && group.priority.oldestSequence() < (priority?.oldest ?? Infinity)) {
        priority = { group, queue: group.priority, oldest: group.priority.oldestSequence() };
      }
      if (group.normal.size > 0 && group.normal.oldestSequence() < (normal?.oldest ?? Infinity)) {
        normal = { group, queue: group.normal, oldest: group.normal.oldestSequence() };
      }
    }
    if (priority && !normal) {
      this.#priorityStreak = 0;
      return priority;
    }
    if (priority && this.#priorityStreak < PRIORITY_STREAK) {
      this.#priorityStreak++;
      return priority;
    }
    this.#priorityStreak = 0;
    return normal;
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (slot.busy) continue;
      const next = this.#nextQueue();
      if (!next) break;
      const taken = next.queue.takeBatch(this.#limits);
      this.#queued -= taken.length;
      const batch = taken.filter((sentence) => !sentence.request.settled);
      if (batch.length === 0) continue;
      slot.busy = true;
      this.#inFlight++;
      void this.#run(slot, batch, next.group.head).finally(() => {
        slot.busy = false;
        this.#inFlight--;
        this.#refill(true);
        this.#pump();
        this.#wakeIdleWaiters();
      });
    }
  }

  async #run(slot: ReplicaSlot, batch: QueuedSentence<PendingRequest>[], head: NativeHeadSpec): Promise<void> {
    const native = this.#nativeBatch(batch, head);
    const started = performance.now();
    try {
      const output = await slot.replica.encode(native);
      this.statistics.recordBatch(this.#slots.indexOf(slot), batch.length, native.seqLen, native.lengths, performance.now() - started);
      this.#deliver(batch, output.data);
    } catch (error) {
      if (isOutOfMemory(error) && batch.length > 1) {
        // Halves may fit where the whole batch did not (device memory).
        const half = Math.ceil(batch.length / 2);
        await this.#run(slot, batch.slice(0, half), head);
        await this.#run(slot, batch.slice(half), head);
        return;
      }
      const failure = fromNativeError(error);
      const requests = new Set(batch.map((sentence) => sentence.request));
      const code = (failure as { code?: string }).code;
      if ((code === 'ERR_TORCH' || code === 'ERR_NATIVE') && requests.size > 1) {
        // One call's rows may have failed the whole batch: each call's rows again on their own, so
        // that only that call fails.
        for (const request of requests) await this.#run(slot, batch.filter((sentence) => sentence.request === request), head);
        return;
      }
      for (const sentence of batch) this.#fail(sentence.request, failure);
    }
  }

  /** Pads the batch's rows to its longest; a head that reads a per-row payload gets the rows' payloads, [batch × payloadWidth]. */
  #nativeBatch(batch: QueuedSentence<PendingRequest>[], head: NativeHeadSpec): NativeBatch {
    const seqLen = Math.max(...batch.map((s) => s.ids.length));
    const ids = new Int32Array(batch.length * seqLen).fill(this.#padId);
    const typeIds = new Int32Array(batch.length * seqLen);
    const lengths = new Int32Array(batch.length);
    batch.forEach((sentence, i) => {
      ids.set(sentence.ids, i * seqLen);
      typeIds.set(sentence.typeIds, i * seqLen);
      lengths[i] = sentence.ids.length;
    });
    const native: NativeBatch = { ids, typeIds, lengths, batchSize: batch.length, seqLen, head };
    const width = head.payloadWidth ?? 0;
    if (width > 0) {
      const payload = new Int32Array(batch.length * width);
      batch.forEach((sentence, i) => payload.set(sentence.payload!, i * width));
      native.payload = payload;
    }
    return native;
  }

  /** Copies each row into its call's output; a row that is not finite fails its call (every head passes here). */
  #deliver(batch: QueuedSentence<PendingRequest>[], data: Float32Array): void {
    batch.forEach((sentence, i) => {
      const request = sentence.request;
      if (request.settled) return;
      const width = request.call.rowWidth;
      const row = data.subarray(i * width, (i + 1) * width);
      const bad = firstNonFinite(row);
      if (bad >= 0) {
        const label = request.call.rowLabel?.(sentence.row) ?? `row ${sentence.row} of the call`;
        this.#fail(request, new NonFiniteOutputError(sentence.row, row[bad], label, bad, width));
        return;
      }
      request.output.set(row, sentence.row * width);
      if (--request.remaining === 0) {
        this.#settle(request);
        request.resolve(request.output);
      }
    });
  }

  #settle(request: PendingRequest): void {
    request.settled = true;
    request.detach();
    this.#outstanding -= request.call.count;
  }

  /** Settles a call with an error and drops its sentences still waiting. */
  #fail(request: PendingRequest, error: unknown): void {
    if (request.settled) return;
    this.#settle(request);
    request.reject(error);
    const untokenizedAt = this.#untokenized.indexOf(request);
    if (untokenizedAt >= 0) this.#untokenized.splice(untokenizedAt, 1);
    for (const group of this.#groups.values()) {
      for (const queue of [group.priority, group.normal]) {
        const before = queue.size;
        queue.prune((sentence) => sentence.request === request);
        this.#queued -= before - queue.size;
      }
    }
    this.#refill(false);
    this.#wakeIdleWaiters();
  }

  #wakeIdleWaiters(): void {
    if (this.#outstanding === 0 && this.#inFlight === 0) this.#idleWaiters.splice(0).forEach((wake) => wake());
  }
}
