/**
 * A client for `bert-embed serve`, over a UNIX socket or TCP, to one server or spread over several
 * (round-robin or least-pending, moving a request to another server when one cannot answer it).
 * Vectors travel as raw float32 (no JSON) on kept-alive connections; one client is safe to share
 * between concurrent callers (each call is its own HTTP request), which bert-as-service's ZeroMQ
 * clients were not.
 */
import { Embeddings } from '../embeddings.js';
import { inSourceOrder } from '../in-source-order.js';
import { checkInteger, checkOneOf, checkPlainObject, rejectUnknownOptions, fieldError } from '../validation.js';
import { endpointAddressesOf, type BertClientEndpoint, type BertClientTarget } from './endpoint-address.js';
import { BALANCES, EndpointPool, type Balance, type EndpointStats } from './endpoint-pool.js';
import { sendWithFailover } from './failover.js';
import { exchange, serverError, type RawResponse } from './http-exchange.js';

export type { Balance as BertClientBalance, BertClientEndpoint, BertClientTarget, EndpointStats as BertClientEndpointStats };

/** Requests encodeStream keeps in flight. */
const STREAM_REQUESTS_IN_FLIGHT = 4;
const DEFAULT_DOWN_FOR_MS = 5_000;

export interface BertClientOptions {
  /** per request; default 60 s. A request that times out fails, and is not resent elsewhere */
  timeoutMs?: number;
  /** most connections kept open to each server; default 16 */
  maxSockets?: number;
  /** the server's --api-key, sent as `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  /** how `{ endpoints }` share the requests: 'least-pending' (fewest in flight, ties in turn; the default) or 'round-robin' */
  balance?: Balance;
  /** how long a server that failed a request (refused, lost the connection, answered 503) is left out, in ms; default 5000 */
  downForMs?: number;
}

export interface ClientEncodeOptions {
  isTokenized?: boolean;
  /** the server must run with --show-tokens-to-client, else the call fails with ERR_TOKENS_NOT_ALLOWED */
  showTokens?: boolean;
  signal?: AbortSignal;
}

export class BertClient {
  readonly #pool: EndpointPool;
  readonly #timeoutMs: number;
  readonly #authorization: Record<string, string>;

  constructor(target: BertClientTarget, options: BertClientOptions = {}) {
    const addresses = endpointAddressesOf(target);
    rejectUnknownOptions('BertClient', checkPlainObject('options', options), ['timeoutMs', 'maxSockets', 'apiKey', 'balance', 'downForMs']);
    if (options.apiKey !== undefined) {
      const expected = 'non-empty string of visible ASCII characters without spaces';
      if (typeof options.apiKey !== 'string') throw fieldError(TypeError, 'apiKey', expected, options.apiKey);
      // The key itself is never written into a message.
      if (!/^[\x21-\x7e]+$/.test(options.apiKey)) throw new RangeError(`Expected ${expected} for apiKey but received a string of ${options.apiKey.length} characters that is not`);
    }
    this.#authorization = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
    this.#timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? 60_000, 1);
    this.#pool = new EndpointPool(addresses, {
      balance: checkOneOf('balance', options.balance ?? 'least-pending', BALANCES),
      downForMs: checkInteger('downForMs', options.downForMs ?? DEFAULT_DOWN_FOR_MS, 0),
      maxSockets: checkInteger('maxSockets', options.maxSockets ?? 16, 1),
    });
  }

  /** Same result shape as Encoder.encode: `{ data, shape, rows(), tokens? }`. */
  async encode(texts: string[] | string[][], options: ClientEncodeOptions = {}): Promise<Embeddings> {
    rejectUnknownOptions('encode', checkPlainObject('options', options), ['isTokenized', 'showTokens', 'signal']);
    if (!Array.isArray(texts)) throw fieldError(TypeError, 'texts', 'array of strings', texts);
    if (texts.length === 0) throw fieldError(RangeError, 'texts', 'non-empty array of strings', texts);
    const body = JSON.stringify({ texts, is_tokenized: options.isTokenized ?? false, show_tokens: options.showTokens ?? false });
    // Tokens only travel in JSON; vectors alone go as raw float32.
    const binary = !options.showTokens;
    const response = await this.#request('POST', '/encode', body, binary ? 'application/octet-stream' : 'application/json', options.signal);
    if (binary) {
      const shape = String(response.headers['x-embedding-shape'] ?? '').split(',').map(Number);
      const bytes = response.body;
      // A fresh, aligned buffer: the received one may start at any byte offset.
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      return new Embeddings(data, shape);
    }
    const parsed = JSON.parse(response.body.toString('utf8')) as { results: unknown[]; tokens?: string[][] };
    const rows = parsed.results;
    const flat = rows.flat(Infinity) as number[];
    const shape = [rows.length, ...shapeOf(rows[0])];
    return new Embeddings(Float32Array.from(flat), shape, parsed.tokens);
  }

  /** Like Encoder.encodeStream: one Embeddings per list, in order, several requests in flight. */
  encodeStream(source: AsyncIterable<string[]> | Iterable<string[]>, options: ClientEncodeOptions = {}): AsyncGenerator<Embeddings, void, undefined> {
    return inSourceOrder(source, (texts) => this.encode(texts, options), () => 1, STREAM_REQUESTS_IN_FLIGHT);
  }

  /** GET /status of one server: with several, the one the balance picks (and another if it cannot answer). */
  async status(): Promise<Record<string, unknown>> {
    const response = await this.#request('GET', '/status', undefined, 'application/json');
    return JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  }

  /** Each server's share of this client's requests, in the order they were given. */
  endpointStats(): EndpointStats[] {
    return this.#pool.stats();
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#pool.close();
  }

  async #request(method: string, path: string, body: string | undefined, accept: string, signal?: AbortSignal): Promise<RawResponse> {
    const request = { method, path, body, accept, headers: this.#authorization, timeoutMs: this.#timeoutMs, signal };
    const response = await sendWithFailover(this.#pool, (endpoint) => exchange(endpoint, request));
    if (response.status >= 200 && response.status < 300) return response;
    throw serverError(response);
  }
}

function shapeOf(value: unknown): number[] {
  return Array.isArray(value) ? [value.length, ...shapeOf(value[0])] : [];
}
