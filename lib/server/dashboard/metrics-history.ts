/**
 * The server's last ten minutes, one sample a second, kept in a ring: what `GET /status?history=N`
 * returns, so that the dashboard draws the minutes before it was opened, not only what it saw itself.
 */
import type { EncoderStatus } from '../../encoder/encoder-status.js';
import { expectationMessage } from '../../validation.js';
import { HttpError } from '../http-error.js';

export const SAMPLE_INTERVAL_MS = 1000;
export const HISTORY_SECONDS = 600;
const CAPACITY = (HISTORY_SECONDS * 1000) / SAMPLE_INTERVAL_MS;
/** Latencies kept for one sample's percentiles; beyond this a uniform random subset (reservoir). */
const MAX_LATENCIES_PER_SAMPLE = 4096;

/** Columns of samples, oldest first (uPlot's data layout). Rates are per second over the sample's interval. */
export interface StatusHistory {
  intervalMs: number;
  /**
   * when the first sample's interval opened, seconds since the epoch (null without samples): a timer
   * late under load makes an interval longer than intervalMs, so a rate times its own interval
   * (t[i] - t[i-1], and t[0] - since) is the exact count
   */
  since: number | null;
  /** when each sample closed, seconds since the epoch */
  t: number[];
  /** encode calls (the pool's requests) per second */
  requestsPerSecond: number[];
  sentencesPerSecond: number[];
  /** latency of the POST requests (the model's endpoints) answered in the interval, null when none */
  latencyP50Ms: (number | null)[];
  latencyP99Ms: (number | null)[];
  /** tokenized sentences waiting for a batch, at the sample's close */
  queuedSentences: number[];
  /** workers running a batch, at the sample's close */
  busyWorkers: number[];
  /** sentences per forward pass over the batches finished in the interval, null when none */
  meanBatchSize: (number | null)[];
  /** share of the token positions computed in the interval that were padding, null when none */
  paddingRatio: (number | null)[];
  /** error answers in each interval, by error code (codes seen in the window only) */
  errors: Record<string, number[]>;
}

interface Sample {
  openedAt: number;
  t: number;
  requestsPerSecond: number;
  sentencesPerSecond: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  queuedSentences: number;
  busyWorkers: number;
  meanBatchSize: number | null;
  paddingRatio: number | null;
  errors: Map<string, number> | undefined;
}

/** The pool's cumulative counters a sample takes differences of. */
interface Totals {
  requests: number;
  sentences: number;
  batches: number;
  batchedSentences: number;
  paddedTokens: number;
  realTokens: number;
}

const NO_TOTALS: Totals = { requests: 0, sentences: 0, batches: 0, batchedSentences: 0, paddedTokens: 0, realTokens: 0 };

function totalsOf(status: EncoderStatus | undefined): Totals {
  if (!status) return NO_TOTALS;
  return {
    requests: status.requests,
    sentences: status.sentences,
    batches: status.batches,
    batchedSentences: status.workers.reduce((sum, worker) => sum + worker.sentences, 0),
    paddedTokens: status.paddedTokens,
    realTokens: status.paddedTokens * (1 - status.paddingRatio),
  };
}

/** Three decimals are plenty for a chart and keep the JSON short. */
function rounded(value: number): number;
function rounded(value: number | null): number | null;
function rounded(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/**
 * The seconds of history a `GET /status?history=N` asks for (whole seconds from 1 to
 * HISTORY_SECONDS), or undefined when the request has no `history` parameter.
 */
export function historySecondsAsked(requestUrl: string | undefined): number | undefined {
  const value = new URL(requestUrl ?? '/', 'http://localhost').searchParams.get('history');
  if (value === null) return undefined;
  const seconds = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= 1 && seconds <= HISTORY_SECONDS)) {
    throw new HttpError(422, 'ERR_VALIDATION', expectationMessage('history', `whole seconds from 1 to ${HISTORY_SECONDS}`, value));
  }
  return seconds;
}

export class MetricsHistory {
  readonly #samples: (Sample | undefined)[] = new Array(CAPACITY);
  #next = 0;
  #count = 0;
  /** an encoder's counters start at zero */
  #previousTotals = NO_TOTALS;
  #previousAt: number;
  #latenciesMs: number[] = [];
  #latenciesSeen = 0;
  #errors: Map<string, number> | undefined;

  constructor(now = Date.now()) {
    this.#previousAt = now;
  }

  /** A request to a model endpoint answered, for this interval's latency percentiles. */
  recordLatency(seconds: number): void {
    this.#latenciesSeen++;
    if (this.#latenciesMs.length < MAX_LATENCIES_PER_SAMPLE) {
      this.#latenciesMs.push(seconds * 1000);
    } else {
      const slot = Math.floor(Math.random() * this.#latenciesSeen);
      if (slot < MAX_LATENCIES_PER_SAMPLE) this.#latenciesMs[slot] = seconds * 1000;
    }
  }

  recordError(code: string): void {
    this.#errors ??= new Map();
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  /** Closes the current interval: rates from the pool's counters, gauges as they are now. */
  sample(status: EncoderStatus | undefined, now = Date.now()): void {
    const totals = totalsOf(status);
    const previous = this.#previousTotals;
    const delta = (key: keyof Totals): number => Math.max(0, totals[key] - previous[key]);
    const seconds = Math.max(1e-3, (now - this.#previousAt) / 1000);
    const batches = delta('batches');
    const paddedTokens = delta('paddedTokens');
    const latencies = this.#latenciesMs.sort((a, b) => a - b);
    this.#samples[this.#next] = {
      openedAt: this.#previousAt / 1000,
      t: now / 1000,
      requestsPerSecond: delta('requests') / seconds,
      sentencesPerSecond: delta('sentences') / seconds,
      latencyP50Ms: latencies.length === 0 ? null : percentile(latencies, 0.5),
      latencyP99Ms: latencies.length === 0 ? null : percentile(latencies, 0.99),
      queuedSentences: status?.queuedSentences ?? 0,
      busyWorkers: status?.busyWorkers ?? 0,
      meanBatchSize: batches === 0 ? null : delta('batchedSentences') / batches,
      paddingRatio: paddedTokens === 0 ? null : Math.min(1, Math.max(0, 1 - delta('realTokens') / paddedTokens)),
      errors: this.#errors,
    };
    this.#next = (this.#next + 1) % CAPACITY;
    this.#count = Math.min(CAPACITY, this.#count + 1);
    this.#previousTotals = totals;
    this.#previousAt = now;
    this.#latenciesMs = [];
    this.#latenciesSeen = 0;
    this.#errors = undefined;
  }

  /** The samples of the last `seconds`, oldest first. */
  columns(seconds: number): StatusHistory {
    const wanted = Math.min(this.#count, Math.ceil((seconds * 1000) / SAMPLE_INTERVAL_MS));
    const samples: Sample[] = [];
    for (let i = wanted; i > 0; i--) samples.push(this.#samples[(this.#next - i + CAPACITY) % CAPACITY]!);
    const codes = new Set<string>();
    for (const sample of samples) for (const code of sample.errors?.keys() ?? []) codes.add(code);
    const errors: Record<string, number[]> = {};
    for (const code of [...codes].sort()) errors[code] = samples.map((sample) => sample.errors?.get(code) ?? 0);
    return {
      intervalMs: SAMPLE_INTERVAL_MS,
      since: samples.length === 0 ? null : rounded(samples[0].openedAt),
      t: samples.map((sample) => rounded(sample.t)),
      requestsPerSecond: samples.map((sample) => rounded(sample.requestsPerSecond)),
      sentencesPerSecond: samples.map((sample) => rounded(sample.sentencesPerSecond)),
      latencyP50Ms: samples.map((sample) => rounded(sample.latencyP50Ms)),
      latencyP99Ms: samples.map((sample) => rounded(sample.latencyP99Ms)),
      queuedSentences: samples.map((sample) => sample.queuedSentences),
      busyWorkers: samples.map((sample) => sample.busyWorkers),
      meanBatchSize: samples.map((sample) => rounded(sample.meanBatchSize)),
      paddingRatio: samples.map((sample) => rounded(sample.paddingRatio)),
      errors,
    };
  }
}
