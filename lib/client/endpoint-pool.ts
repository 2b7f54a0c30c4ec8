/**
 * The servers of one BertClient. Each has its own kept-alive connections (one shared agent would
 * let a Kubernetes service pin the client to whichever pod its connections reached), a count of
 * its requests in flight, and a time until which it is left out after it failed.
 */
import http from 'node:http';
import type { EndpointAddress } from './endpoint-address.js';

export const BALANCES = ['round-robin', 'least-pending'] as const;
export type Balance = (typeof BALANCES)[number];

/** One server's share of a client's requests, as `BertClient.endpointStats()` reports it. */
export interface EndpointStats {
  /** `unix:/run/bert.sock` or `http://host:port` */
  endpoint: string;
  /** requests in flight there now */
  pending: number;
  /** requests sent there, failed over or not */
  sent: number;
  /** requests it answered (any answer but 503, errors included) */
  answered: number;
  /** requests it failed (no connection, a connection lost before the whole answer, 503): each went on to another server, if one was left */
  failures: number;
  /** left out until its down time has passed (it is still tried when every other server failed too) */
  down: boolean;
  /** why it last failed, e.g. `ECONNREFUSED` or `HTTP 503 ERR_SHUTTING_DOWN`; null if it never did */
  lastFailure: string | null;
}

export class Endpoint {
  readonly name: string;
  readonly location: EndpointAddress['location'];
  readonly agent: http.Agent;
  pending = 0;
  sent = 0;
  answered = 0;
  failures = 0;
  downUntil = 0;
  lastFailure: string | null = null;

  constructor(address: EndpointAddress, maxSockets: number) {
    this.name = address.name;
    this.location = address.location;
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  isDown(now: number): boolean {
    return this.downUntil > now;
  }
}

export interface EndpointPoolOptions {
  balance: Balance;
  downForMs: number;
  maxSockets: number;
}

export class EndpointPool {
  readonly endpoints: readonly Endpoint[];
  readonly #options: EndpointPoolOptions;
  /** where the next round-robin scan starts: one past the last endpoint picked */
  #cursor = 0;

  constructor(addresses: EndpointAddress[], options: EndpointPoolOptions) {
    this.endpoints = addresses.map((address) => new Endpoint(address, options.maxSockets));
    this.#options = options;
  }

  /**
   * The endpoint for a request's next attempt, never one it has `tried`: among those up, the next in
   * turn (round-robin) or the one with fewest requests in flight, ties in turn (least-pending); when
   * all left are down, the one back soonest, so that a request fails only after every server did.
   */
  pick(tried: { has(endpoint: Endpoint): boolean }): Endpoint | undefined {
    const now = Date.now();
    const count = this.endpoints.length;
    const inTurn = Array.from({ length: count }, (_, i) => this.endpoints[(this.#cursor + i) % count]).filter((endpoint) => !tried.has(endpoint));
    const up = inTurn.filter((endpoint) => !endpoint.isDown(now));
    let chosen: Endpoint | undefined;
    if (up.length === 0) chosen = inTurn.reduce<Endpoint | undefined>((best, endpoint) => (best === undefined || endpoint.downUntil < best.downUntil ? endpoint : best), undefined);
    else if (this.#options.balance === 'round-robin') chosen = up[0];
    else chosen = up.reduce((best, endpoint) => (endpoint.pending < best.pending ? endpoint : best));
    if (chosen) this.#cursor = (this.endpoints.indexOf(chosen) + 1) % count;
    return chosen;
  }

  markDown(endpoint: Endpoint, reason: string): void {
    endpoint.downUntil = Date.now() + this.#options.downForMs;
    endpoint.lastFailure = reason;
    endpoint.failures++;
  }

  stats(): EndpointStats[] {
    const now = Date.now();
    return this.endpoints.map((endpoint) => ({
      endpoint: endpoint.name,
      pending: endpoint.pending,
      sent: endpoint.sent,
      answered: endpoint.answered,
      failures: endpoint.failures,
      down: endpoint.isDown(now),
      lastFailure: endpoint.lastFailure,
    }));
  }

  close(): void {
    for (const endpoint of this.endpoints) endpoint.agent.destroy();
  }
}
