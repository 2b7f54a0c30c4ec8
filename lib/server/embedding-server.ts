/**
 * The HTTP server behind `bert-embed serve`: one Encoder shared by every client, on a UNIX socket
 * and/or TCP. It listens before the model has loaded (answering 503 meanwhile), cancels the queued
 * work of a client that goes away, and shuts down gracefully: no new requests, in-flight ones
 * finished, socket file removed.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { Encoder } from '../encoder.js';
import { checkInteger, expectationMessage } from '../validation.js';
import { ApiKey, Cors, parseCorsOrigins } from './access-control.js';
import { BertAsServiceStatus, type ListeningOn } from './dialects/bert-as-service/status.js';
import { ENGINE } from './dialects/engine/dialect.js';
import { httpError, httpErrorOf, type HttpError } from './http-error.js';
import { ServerMetrics } from './metrics.js';
import { readJsonBody } from './request-body.js';
import type { Answer, Exchange, ServerSettings, ServerState, ServerView } from './route.js';
import { checkMethod, findRoute, notFound } from './route-lookup.js';
import { listenOnSocket } from './socket-listen.js';

export interface EmbeddingServerOptions {
  /** request bodies above this are refused with 413 */
  maxBodyBytes: number;
  /** most texts in one request */
  maxInputs: number;
  /** the model name /v1/embeddings reports when the request names none, and TF Serving's /v1/models/<name> */
  modelName: string;
  /**
   * the longest a client may take to send its headers, and then its body, in ms (default 60 000):
   * a body still arriving after that is answered 408 and its connection closed
   */
  requestTimeoutMs?: number;
  /** when set, every endpoint but GET /health requires `Authorization: Bearer <apiKey>` (else 401) */
  apiKey?: string;
  /** browser origins allowed cross-origin access (CORS): '*' or a comma-separated list; none by default */
  cors?: string;
  /** bert-as-service's -show_tokens_to_client: /encode answers show_tokens (else 403); default false */
  showTokensToClient?: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export class EmbeddingServer {
  readonly #options: EmbeddingServerOptions;
  readonly #settings: ServerSettings;
  readonly #requestTimeoutMs: number;
  readonly #apiKey: ApiKey | undefined;
  readonly #cors: Cors | undefined;
  readonly #metrics = new ServerMetrics(() => this.#encoder?.status());
  readonly #bertAsService: BertAsServiceStatus;
  readonly #servers: http.Server[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #socketPath: string | undefined;
  #encoder: Encoder | undefined;
  #state: ServerState = 'loading';
  #closing: Promise<void> | undefined;

  constructor(options: EmbeddingServerOptions) {
    this.#options = options;
    this.#requestTimeoutMs = checkInteger('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 1);
    this.#apiKey = options.apiKey === undefined ? undefined : new ApiKey(options.apiKey);
    this.#cors = options.cors === undefined ? undefined : new Cors(parseCorsOrigins(options.cors));
    this.#bertAsService = new BertAsServiceStatus({ showTokensToClient: options.showTokensToClient ?? false, cors: options.cors, modelName: options.modelName });
    this.#settings = { maxInputs: options.maxInputs, modelName: options.modelName, showTokensToClient: options.showTokensToClient ?? false };
  }

  /** Starts answering encode requests (before this, they get 503). */
  setEncoder(encoder: Encoder): void {
    this.#encoder = encoder;
    if (this.#state === 'loading') this.#state = 'ready';
  }

  async listenOnSocket(socketPath: string, mode = 0o600): Promise<void> {
    const server = this.#createHttpServer();
    await listenOnSocket(server, socketPath, mode);
    this.#socketPath = socketPath;
  }

  /** Returns the port (useful with port 0). */
  async listenOnTcp(port: number, host = '127.0.0.1'): Promise<number> {
    const server = this.#createHttpServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  /** Stops accepting, finishes the requests in flight, closes the model, removes the socket file. */
  shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      this.#metrics.close();
      const closed = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const server of this.#servers) server.closeIdleConnections();
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      for (const server of this.#servers) server.closeAllConnections();
      await Promise.all(closed);
      await this.#encoder?.close();
      if (this.#socketPath) fs.rmSync(this.#socketPath, { force: true });
    })();
    return this.#closing;
  }

  #createHttpServer(): http.Server {
    const timeout = this.#requestTimeoutMs;
    // Headers must arrive within the timeout (Node answers 408 itself, checking every
    // connectionsCheckingInterval), then the body within the timeout again (readJsonBody's exact
    // deadline, a JSON 408). Node's requestTimeout is the backstop for a body nobody reads.
    const options = { headersTimeout: timeout, requestTimeout: 2 * timeout, connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.round(timeout / 4))) };
    const server = http.createServer(options, (request, response) => {
      const handled = this.#handle(request, response);
      this.#inFlight.add(handled);
      void handled.finally(() => this.#inFlight.delete(handled));
    });
    this.#servers.push(server);
    return server;
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = findRoute(url.pathname);
    const controller = new AbortController();
    // The client hung up before its answer was written: drop its queued sentences.
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    let status = 200;
    let errorCode: string | undefined;
    try {
      if (this.#state === 'closing') response.setHeader('connection', 'close');
      this.#cors?.decorate(request, response);
      checkTransferCoding(request);
      if (this.#cors && request.method === 'OPTIONS') {
        // a preflight: browsers send it without credentials, so it needs no key
        this.#cors.preflight(request, response);
        status = 204;
        return;
      }
      if (this.#apiKey && !route?.entry.keyless) this.#apiKey.check(request);
      if (!route) throw notFound(url.pathname, this.#options.modelName);
      checkMethod(route.entry, request.method ?? 'GET', url.pathname);
      const bodyDeadline = started + this.#requestTimeoutMs;
      const exchange: Exchange = {
        request,
        response,
        url,
        params: route.params,
        signal: controller.signal,
        server: this.#view,
        readBody: () => readJsonBody(request, { maxBytes: this.#options.maxBodyBytes, deadline: bodyDeadline, timeoutMs: this.#requestTimeoutMs }),
        readyEncoder: () => this.#readyEncoder(),
      };
      writeAnswer(response, await route.entry.handler(exchange));
    } catch (thrown) {
      const error = httpErrorOf(thrown);
      const answer = (route?.entry.dialect ?? ENGINE).errorAnswer(error);
      status = answer.status;
      errorCode = error.code;
      if (!response.headersSent && !response.destroyed) {
        const headers: Record<string, string> = { 'content-type': 'application/json', ...error.headers };
        // The rest of the request is not worth reading (a body over the limit or too slow, an
        // unknown transfer coding, a client without the key): answer, then close the connection.
        if (error.closeConnection || this.#state === 'closing') headers.connection = 'close';
        response.writeHead(status, headers).end(answer.jsonText);
      }
    } finally {
      this.#metrics.record(route?.label ?? 'other', status, (performance.now() - started) / 1000, errorCode, request.method === 'POST');
    }
    // In flight until the answer has left, so that a shutdown does not cut a long one short.
    if (!response.writableFinished && !response.destroyed) {
      await new Promise<void>((resolve) => {
        response.once('finish', resolve);
        response.once('close', resolve);
      });
    }
  }

  /** The server as handlers see it. */
  readonly #view: ServerView = (() => {
    const server = this;
    return {
      get state() {
        return server.#state;
      },
      get settings() {
        return server.#settings;
      },
      get encoder() {
        return server.#encoder;
      },
      get metrics() {
        return server.#metrics;
      },
      get bertAsService() {
        return server.#bertAsService;
      },
      listeningOn: () => server.#listeningOn(),
    };
  })();

  #readyEncoder(): Encoder {
    if (this.#state !== 'ready' || !this.#encoder) throw this.#unavailable();
    return this.#encoder;
  }

  /** The first TCP address and the socket, for bert-as-service's status dicts. */
  #listeningOn(): ListeningOn {
    const tcp = this.#servers.map((server) => server.address()).find((address) => typeof address === 'object' && address !== null);
    return { host: tcp?.address ?? null, port: tcp?.port ?? null, socket: this.#socketPath ?? null };
  }

  #unavailable(): HttpError {
    return this.#state === 'loading'
      ? httpError('ERR_LOADING', 'the model is still loading; retry shortly')
      : httpError('ERR_SHUTTING_DOWN', 'the server is shutting down');
  }
}

function writeAnswer(response: http.ServerResponse, answer: Answer): void {
  if (answer === 'written') return;
  if ('text' in answer) {
    response.writeHead(200, { 'content-type': answer.contentType }).end(answer.text);
  } else if ('vectors' in answer) {
    const bytes = Buffer.from(answer.vectors.buffer, answer.vectors.byteOffset, answer.vectors.byteLength);
    response
      .writeHead(200, { 'content-type': 'application/octet-stream', 'x-embedding-shape': answer.shape.join(','), 'content-length': bytes.length, ...answer.headers })
      .end(bytes);
  } else {
    response.writeHead(200, { 'content-type': 'application/json', ...answer.headers }).end(answer.jsonText);
  }
}

/**
 * RFC 9112 §6.1: a request in a transfer coding the server does not understand gets 501. Node
 * parses `chunked` framing; any other coding (`gzip, chunked`) would be read as if plain.
 */
function checkTransferCoding(request: http.IncomingMessage): void {
  const header = request.headers['transfer-encoding'];
  if (header === undefined) return;
  const codings = header.split(',').map((coding) => coding.trim().toLowerCase());
  if (codings.every((coding) => coding === 'chunked')) return;
  throw httpError('ERR_TRANSFER_CODING', expectationMessage('Transfer-Encoding', '"chunked" alone (send the body uncompressed)', header), { closeConnection: true });
}
