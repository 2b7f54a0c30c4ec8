/**
 * The "statistic" of bert-as-service's server_status (its ServerStatistic), kept for the requests
 * that are bert-as-service's: POST /encode (data requests, with their sentences) and GET
 * /status/server, /status/client (system requests). Client counts are left out: an HTTP client has
 * no identity to count by.
 */

/** bert-as-service keeps the intervals between the last 200 data requests. */
const RECENT_INTERVALS = 200;

export class BertAsServiceStatistic {
  #dataRequests = 0;
  #systemRequests = 0;
  #sentences = 0;
  /** data requests by their number of sentences */
  readonly #sizes = new Map<number, number>();
  /** seconds between consecutive data requests, the first from the server's start (as bert-as-service) */
  readonly #intervals: number[] = [];
  #lastDataRequest = performance.now();
  #nextRequestNumber = 1;
  /** numbers of the /encode requests being answered */
  readonly #pending = new Set<number>();

  recordSystemRequest(): void {
    this.#systemRequests++;
  }

  /** Runs an /encode request; once answered, it counts as a data request of `sentences()` sentences. */
  async trackEncode<T>(sentences: () => number, run: () => Promise<T>): Promise<T> {
    const number = this.#nextRequestNumber++;
    this.#pending.add(number);
    try {
      const result = await run();
      this.#recordDataRequest(sentences());
      return result;
    } finally {
      this.#pending.delete(number);
    }
  }

  /** requests counted so far, data and system */
  get totalRequests(): number {
    return this.#dataRequests + this.#systemRequests;
  }

  /** numbers of the /encode requests being answered now, oldest first */
  get pendingRequests(): number[] {
    return [...this.#pending];
  }

  /** bert-as-service's `statistic` dict. */
  value(): Record<string, number> {
    const sizes = [...this.#sizes.entries()];
    const sizeStats: Record<string, number> = {};
    if (sizes.length > 0) {
      const min = Math.min(...sizes.map(([size]) => size));
      const max = Math.max(...sizes.map(([size]) => size));
      Object.assign(sizeStats, {
        avg_size_per_request: this.#sentences / this.#dataRequests,
        min_size_per_request: min,
        max_size_per_request: max,
        num_min_size_per_request: this.#sizes.get(min)!,
        num_max_size_per_request: this.#sizes.get(max)!,
      });
    }
    return {
      num_data_request: this.#dataRequests,
      num_total_seq: this.#sentences,
      num_sys_request: this.#systemRequests,
      num_total_request: this.totalRequests,
      ...sizeStats,
      ...minMaxAverage('last_two_interval', this.#intervals),
      // a zero interval (two requests within the timer's resolution) has no finite rate
      ...minMaxAverage('request_per_second', this.#intervals.filter((seconds) => seconds > 0).map((seconds) => 1 / seconds)),
    };
  }

  #recordDataRequest(sentences: number): void {
    this.#dataRequests++;
    this.#sentences += sentences;
    this.#sizes.set(sentences, (this.#sizes.get(sentences) ?? 0) + 1);
    const now = performance.now();
    this.#intervals.push((now - this.#lastDataRequest) / 1000);
    if (this.#intervals.length > RECENT_INTERVALS) this.#intervals.shift();
    this.#lastDataRequest = now;
  }
}

/** avg_/min_/max_/num_min_/num_max_<name>, as bert-as-service writes them; nothing for no values. */
function minMaxAverage(name: string, values: number[]): Record<string, number> {
  if (values.length === 0) return {};
  const min = Math.min(...values);
  const max = Math.max(...values);
  return {
    [`avg_${name}`]: values.reduce((sum, value) => sum + value, 0) / values.length,
    [`min_${name}`]: min,
    [`max_${name}`]: max,
    [`num_min_${name}`]: values.filter((value) => value === min).length,
    [`num_max_${name}`]: values.filter((value) => value === max).length,
  };
}
