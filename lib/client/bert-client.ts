/**
 * A client for `bert-embed serve`, over a UNIX socket or TCP. Vectors travel as raw float32 (no
 * JSON) on kept-alive connections; one client is safe to share between concurrent callers (each
 * call is its own HTTP request), which bert-as-service's ZeroMQ clients were not.
 */
import http from 'node:http';
import { Embeddings } from '../embeddings.js';
import { inSourceOrder } from '../in-source-order.js';
import { BertEmbedError, errorCodeOf } from '../errors.js';
import { checkInteger, checkPlainObject, expectationMessage, rejectUnknownOptions } from '../validation.js';

/** Requests encodeStream keeps in flight. */
const STREAM_REQUESTS_IN_FLIGHT = 4;

export type BertClientTarget = { socket: string } | { host: string; port: number };

export interface BertClientOptions {
  /** per request; default 60 s */
  timeoutMs?: number;
  /** most connections kept open to the server; default 16 */
  maxSockets?: number;
  /** the server's --api-key, sent as `Authorization: Bearer <apiKey>` */
  apiKey?: string;
}

export interface ClientEncodeOptions {
  isTokenized?: boolean;
  /** the server must run with --show-tokens-to-client, else the call fails with ERR_TOKENS_NOT_ALLOWED */
  showTokens?: boolean;
  signal?: AbortSignal;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class BertClient {
  readonly #target: BertClientTarget;
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;
  readonly #authorization: Record<string, string>;

  constructor(target: BertClientTarget, options: BertClientOptions = {}) {
    const where = checkPlainObject('target', target);
    if (typeof where.socket !== 'string' && !(typeof where.host === 'string' && typeof where.port === 'number')) {
      throw new TypeError(expectationMessage('target', '{ socket } or { host, port }', target));
    }
    rejectUnknownOptions('BertClient', checkPlainObject('options', options), ['timeoutMs', 'maxSockets', 'apiKey']);
    if (options.apiKey !== undefined) {
      const expected = 'non-empty string of visible ASCII characters without spaces';
      if (typeof options.apiKey !== 'string') throw new TypeError(expectationMessage('apiKey', expected, options.apiKey));
      // The key itself is never written into a message.
      if (!/^[\x21-\x7e]+$/.test(options.apiKey)) throw new RangeError(`Expected ${expected} for apiKey but received a string of ${options.apiKey.length} characters that is not`);
    }
    this.#authorization = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
    this.#target = target;
    this.#timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? 60_000, 1);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: checkInteger('maxSockets', options.maxSockets ?? 16, 1) });
  }

  /** Same result shape as Encoder.encode: `{ data, shape, rows(), tokens? }`. */
  async encode(texts: string[] | string[][], options: ClientEncodeOptions = {}): Promise<Embeddings> {
    rejectUnknownOptions('encode', checkPlainObject('options', options), ['isTokenized', 'showTokens', 'signal']);
    if (!Array.isArray(texts)) throw new TypeError(expectationMessage('texts', 'array of strings', texts));
    if (texts.length === 0) throw new RangeError(expectationMessage('texts', 'non-empty array of strings', texts));
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

  async status(): Promise<Record<string, unknown>> {
    const response = await this.#request('GET', '/status', undefined, 'application/json');
    return JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  #request(method: string, path: string, body: string | undefined, accept: string, signal?: AbortSignal): Promise<RawResponse> {
    const location = 'socket' in this.#target ? { socketPath: this.#target.socket } : { host: this.#target.host, port: this.#target.port };
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          ...location,
          method,
          path,
          agent: this.#agent,
          signal,
          headers: { accept, ...this.#authorization, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('error', reject);
          response.once('end', () => {
            const raw = { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
            if (raw.status >= 200 && raw.status < 300) resolve(raw);
            else reject(serverError(raw));
          });
        },
      );
      request.setTimeout(this.#timeoutMs, () => request.destroy(new BertEmbedError(`no answer from the server within ${this.#timeoutMs} ms`, 'ERR_TIMEOUT')));
      request.once('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof BertEmbedError || error.name === 'AbortError') reject(error);
        else reject(new BertEmbedError(`cannot reach the server (${error.code ?? error.message})`, 'ERR_CONNECTION', { cause: error }));
      });
      request.end(body);
    });
  }
}

function shapeOf(value: unknown): number[] {
  return Array.isArray(value) ? [value.length, ...shapeOf(value[0])] : [];
}

function serverError(response: RawResponse): BertEmbedError {
  try {
    const { error, code } = JSON.parse(response.body.toString('utf8')) as { error: string; code: string };
    return Object.assign(new BertEmbedError(error, errorCodeOf(code, 'ERR_SERVER')), { status: response.status });
  } catch {
    return Object.assign(new BertEmbedError(`the server answered HTTP ${response.status}`, 'ERR_SERVER'), { status: response.status });
  }
}
