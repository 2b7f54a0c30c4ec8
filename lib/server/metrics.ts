/** Prometheus text exposition of the server's requests and the encoder's pool, and their last minutes for the dashboard. */
import type { EncoderStatus } from '../encoder/encoder-status.js';
import { MetricsHistory, SAMPLE_INTERVAL_MS, type StatusHistory } from './dashboard/metrics-history.js';

const LATENCY_BOUNDS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, Infinity];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function bound(value: number): string {
  return value === Infinity ? '+Inf' : String(value);
}

export class ServerMetrics {
  readonly #requests = new Map<string, number>();
  readonly #errors = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  readonly #history: MetricsHistory;
  readonly #sampler: NodeJS.Timeout;

  /** `encoderStatus` is read once a second for the history (undefined while the model loads). */
  constructor(encoderStatus: () => EncoderStatus | undefined) {
    this.#history = new MetricsHistory();
    this.#sampler = setInterval(() => this.#history.sample(encoderStatus()), SAMPLE_INTERVAL_MS).unref();
  }

  /** `modelRequest`: a POST, which runs the model (its latency goes into the history's percentiles). */
  record(endpoint: string, status: number, seconds: number, errorCode?: string, modelRequest = false): void {
    if (modelRequest) this.#history.recordLatency(seconds);
    if (errorCode) this.#history.recordError(errorCode);
    const key = `endpoint="${endpoint}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    if (errorCode) this.#errors.set(errorCode, (this.#errors.get(errorCode) ?? 0) + 1);
    let histogram = this.#latency.get(endpoint);
    if (!histogram) {
      histogram = { counts: LATENCY_BOUNDS_SECONDS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(endpoint, histogram);
    }
    histogram.counts[LATENCY_BOUNDS_SECONDS.findIndex((b) => seconds <= b)]++;
    histogram.sum += seconds;
    histogram.count++;
  }

  /** The samples of the last `seconds` (at most HISTORY_SECONDS), oldest first. */
  history(seconds: number): StatusHistory {
    return this.#history.columns(seconds);
  }

  /** Stops sampling. */
  close(): void {
    clearInterval(this.#sampler);
  }

  render(status: EncoderStatus | undefined): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    metric('bert_embed_http_requests_total', 'counter', 'HTTP requests by endpoint and status');
    for (const [labels, count] of this.#requests) lines.push(`bert_embed_http_requests_total{${labels}} ${count}`);
    metric('bert_embed_http_errors_total', 'counter', 'error responses by error code');
    for (const [code, count] of this.#errors) lines.push(`bert_embed_http_errors_total{code="${code}"} ${count}`);
    metric('bert_embed_http_request_duration_seconds', 'histogram', 'request latency by endpoint');
    for (const [endpoint, histogram] of this.#latency) {
      let cumulative = 0;
      histogram.counts.forEach((count, i) => {
        cumulative += count;
        lines.push(`bert_embed_http_request_duration_seconds_bucket{endpoint="${endpoint}",le="${bound(LATENCY_BOUNDS_SECONDS[i])}"} ${cumulative}`);
      });
      lines.push(`bert_embed_http_request_duration_seconds_sum{endpoint="${endpoint}"} ${histogram.sum}`);
      lines.push(`bert_embed_http_request_duration_seconds_count{endpoint="${endpoint}"} ${histogram.count}`);
    }
    if (status) {
      const gauges: [string, string, string, number][] = [
        ['bert_embed_queue_sentences', 'gauge', 'tokenized sentences waiting for a batch', status.queuedSentences],
        ['bert_embed_outstanding_sentences', 'gauge', 'sentences of unfinished calls', status.outstandingSentences],
        ['bert_embed_busy_workers', 'gauge', 'workers running a batch', status.busyWorkers],
        ['bert_embed_encode_requests_total', 'counter', 'encode calls', status.requests],
        ['bert_embed_sentences_total', 'counter', 'sentences submitted', status.sentences],
        ['bert_embed_tokens_total', 'counter', 'real tokens tokenized', status.tokens],
        ['bert_embed_padded_tokens_total', 'counter', 'token positions computed, padding included', status.paddedTokens],
      ];
      for (const [name, type, help, value] of gauges) {
        metric(name, type, help);
        lines.push(`${name} ${value}`);
      }
      metric('bert_embed_batch_size', 'histogram', 'sentences per forward pass');
      let cumulative = 0;
      status.batchSizeHistogram.counts.forEach((count, i) => {
        cumulative += count;
        lines.push(`bert_embed_batch_size_bucket{le="${bound(status.batchSizeHistogram.bounds[i])}"} ${cumulative}`);
      });
      lines.push(`bert_embed_batch_size_sum ${status.workers.reduce((sum, w) => sum + w.sentences, 0)}`);
      lines.push(`bert_embed_batch_size_count ${status.batches}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
