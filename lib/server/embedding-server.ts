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
import { ApiKey, Cors, OPEN_PATHS, parseCorsOrigins } from './access-control.js';
import { DASHBOARD_PATHS, sendDashboardAsset } from './dashboard/dashboard-assets.js';
import { historySecondsAsked } from './dashboard/metrics-history.js';
import { HttpError, httpErrorOf } from './http-error.js';
import { ServerMetrics } from './metrics.js';
import { readJsonBody, type BodyLimits } from './request-body.js';
import { embedRoute } from './routes/embed-route.js';
import { embedSparseRoute } from './routes/embed-sparse-route.js';
import { encodeRoute } from './routes/encode-route.js';
import { fillMaskRoute } from './routes/fill-mask-route.js';
import { openAiRoute } from './routes/openai-route.js';
import { BertAsServiceStatus, type ListeningOn } from './routes/bert-as-service-status.js';
import type { Route, RouteResult } from './routes/route.js';
import { scoreRoute } from './routes/score-route.js';
import { cohereRerankRoute } from './routes/cohere-rerank-route.js';
import { rerankRoute } from './routes/rerank-route.js';
import { teiPredictRoute } from './routes/tei-predict-route.js';
import {
  checkServable,
  modelMetadata,
  modelStatus,
  parseTfServingPath,
  predictRoute,
  tfServingError,
  tfServingMethod,
  type TfServingPath,
} from './routes/tf-serving-route.js';
import { tokenizeRoute } from './routes/tokenize-route.js';
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

const POST_ROUTES: Record<string, Route> = {
  '/encode': encodeRoute,
  '/embed': embedRoute,
  '/v1/embeddings': openAiRoute,
  '/tokenize': tokenizeRoute,
  '/score': scoreRoute,
  '/fill-mask': fillMaskRoute,
  '/embed_sparse': embedSparseRoute,
  '/rerank': rerankRoute,
  '/predict': teiPredictRoute,
  '/v1/rerank': cohereRerankRoute,
};
const GET_PATHS = ['/health', '/status', '/metrics', '/status/server', '/status/client'];
/** TensorFlow Serving's family of paths, /v1/models/<name>[/versions/<n>][:predict|/metadata]. */
const TF_SERVING_ROUTES: Partial<Record<TfServingPath['verb'], Route>> = { predict: predictRoute };

const TF_SERVING_STATE: Record<State, 'LOADING' | 'AVAILABLE' | 'UNLOADING'> = { loading: 'LOADING', ready: 'AVAILABLE', closing: 'UNLOADING' };

type State = 'loading' | 'ready' | 'closing';

export class EmbeddingServer {
  readonly #options: EmbeddingServerOptions;
  readonly #requestTimeoutMs: number;
  readonly #apiKey: ApiKey | undefined;
  readonly #cors: Cors | undefined;
  readonly #metrics = new ServerMetrics(() => this.#encoder?.status());
  readonly #bertAsService: BertAsServiceStatus;
  readonly #servers: http.Server[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #socketPath: string | undefined;
  #encoder: Encoder | undefined;
  #state: State = 'loading';
  #closing: Promise<void> | undefined;

  constructor(options: EmbeddingServerOptions) {
    this.#options = options;
    this.#requestTimeoutMs = checkInteger('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 1);
    this.#apiKey = options.apiKey === undefined ? undefined : new ApiKey(options.apiKey);
    this.#cors = options.cors === undefined ? undefined : new Cors(parseCorsOrigins(options.cors));
    this.#bertAsService = new BertAsServiceStatus({ showTokensToClient: options.showTokensToClient ?? false, cors: options.cors, modelName: options.modelName });
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
    const bodyDeadline = started + this.#requestTimeoutMs;
    const url = new URL(request.url ?? '/', 'http://localhost');
    const tfServing = parseTfServingPath(url.pathname);
    const endpoint =
      url.pathname in POST_ROUTES || GET_PATHS.includes(url.pathname) ? url.pathname : DASHBOARD_PATHS.includes(url.pathname) ? '/dashboard' : (tfServing?.endpoint ?? 'other');
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
      if (this.#apiKey && !OPEN_PATHS.includes(url.pathname)) this.#apiKey.check(request);
      if (DASHBOARD_PATHS.includes(url.pathname)) return sendDashboardAsset(request, response, url.pathname);
      const result = tfServing
        ? await this.#respondTfServing(request, tfServing, controller.signal, bodyDeadline)
        : await this.#respond(request, url.pathname, controller.signal, bodyDeadline);
      if (typeof result === 'string') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(result);
      } else if ('vectors' in result) {
        const bytes = Buffer.from(result.vectors.buffer, result.vectors.byteOffset, result.vectors.byteLength);
        response
          .writeHead(200, { 'content-type': 'application/octet-stream', 'x-embedding-shape': result.shape.join(','), 'content-length': bytes.length, ...result.headers })
          .end(bytes);
      } else {
        response.writeHead(200, { 'content-type': 'application/json', ...result.headers }).end(result.jsonText);
      }
    } catch (thrown) {
      const error = httpErrorOf(thrown);
      // TF Serving's clients get its error shape, `{"error": message}`, and its statuses.
      const answer = tfServing ? tfServingError(error) : { status: error.status, jsonText: JSON.stringify({ error: error.message, code: error.code }) };
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
      this.#metrics.record(endpoint, status, (performance.now() - started) / 1000, errorCode, request.method === 'POST');
    }
    // In flight until the answer has left, so that a shutdown does not cut a long one short.
    if (!response.writableFinished && !response.destroyed) {
      await new Promise<void>((resolve) => {
        response.once('finish', resolve);
        response.once('close', resolve);
      });
    }
  }

  async #respond(request: http.IncomingMessage, path: string, signal: AbortSignal, bodyDeadline: number): Promise<RouteResult | string> {
    const method = request.method ?? 'GET';
    if (GET_PATHS.includes(path)) {
      if (method !== 'GET') throw new HttpError(405, 'ERR_METHOD', `${path} takes GET, not ${method}`);
      if (path === '/metrics') return this.#metrics.render(this.#encoder?.status());
      if (path === '/status/client') return { jsonText: JSON.stringify(this.#bertAsService.clientStatus(this.#listeningOn())) };
      if (path === '/status/server') {
        if (this.#state !== 'ready' || !this.#encoder) throw this.#unavailable();
        return { jsonText: JSON.stringify(this.#bertAsService.serverStatus(this.#encoder, this.#listeningOn())) };
      }
      if (path === '/health') {
        if (this.#state !== 'ready') throw this.#unavailable();
        return { jsonText: '{"status":"ok"}' };
      }
      const history = historySecondsAsked(request.url);
      const loaded = this.#encoder ? { modelName: this.#options.modelName, ...this.#encoder.status() } : {};
      return { jsonText: JSON.stringify({ state: this.#state, ...loaded, ...(history === undefined ? {} : { history: this.#metrics.history(history) }) }) };
    }
    const route = POST_ROUTES[path];
    if (!route) {
      throw new HttpError(
        404,
        'ERR_NOT_FOUND',
        `no endpoint ${path}; try POST /encode, /embed, /v1/embeddings, /tokenize, /score, /fill-mask, /embed_sparse, /rerank, /predict, /v1/rerank, ` +
          `/v1/models/${this.#options.modelName}:predict or GET /status, /status/server, /status/client, /health, /metrics, /dashboard, /v1/models/${this.#options.modelName}[/metadata]`,
      );
    }
    if (method !== 'POST') throw new HttpError(405, 'ERR_METHOD', `${path} takes POST, not ${method}`);
    const body = await readJsonBody(request, this.#bodyLimits(bodyDeadline));
    if (this.#state !== 'ready' || !this.#encoder) throw this.#unavailable();
    const binary = (request.headers.accept ?? '').includes('application/octet-stream');
    const context = { encoder: this.#encoder, body: body as Record<string, unknown>, signal, binary, maxInputs: this.#options.maxInputs, modelName: this.#options.modelName, showTokensToClient: this.#options.showTokensToClient ?? false };
    // bert-as-service's statistic counts its own requests; the route has checked body.texts once it answers
    if (path === '/encode') return this.#bertAsService.statistic.trackEncode(() => (context.body.texts as unknown[]).length, () => route(context));
    return route(context);
  }

  async #respondTfServing(request: http.IncomingMessage, path: TfServingPath, signal: AbortSignal, bodyDeadline: number): Promise<RouteResult> {
    const method = request.method ?? 'GET';
    const expected = tfServingMethod(path);
    if (method !== expected) throw new HttpError(405, 'ERR_METHOD', `${path.endpoint} takes ${expected}, not ${method}`);
    checkServable(path, this.#options.modelName);
    if (path.verb === 'status') return { jsonText: modelStatus(TF_SERVING_STATE[this.#state]) };
    const body = expected === 'POST' ? await readJsonBody(request, this.#bodyLimits(bodyDeadline)) : {};
    if (this.#state !== 'ready' || !this.#encoder) throw this.#unavailable();
    if (path.verb === 'metadata') return { jsonText: modelMetadata(this.#encoder, this.#options.modelName) };
    const route = TF_SERVING_ROUTES[path.verb];
    if (!route) throw new HttpError(400, 'ERR_VALIDATION', `Expected ${path.verb} signature method_name to be tensorflow/serving/${path.verb}. Was: tensorflow/serving/predict`);
    return route({ encoder: this.#encoder, body: body as Record<string, unknown>, signal, binary: false, maxInputs: this.#options.maxInputs, modelName: this.#options.modelName, showTokensToClient: this.#options.showTokensToClient ?? false });
  }

  /** The first TCP address and the socket, for bert-as-service's status dicts. */
  #listeningOn(): ListeningOn {
    const tcp = this.#servers.map((server) => server.address()).find((address) => typeof address === 'object' && address !== null);
    return { host: tcp?.address ?? null, port: tcp?.port ?? null, socket: this.#socketPath ?? null };
  }

  #bodyLimits(deadline: number): BodyLimits {
    return { maxBytes: this.#options.maxBodyBytes, deadline, timeoutMs: this.#requestTimeoutMs };
  }

  #unavailable(): HttpError {
    return this.#state === 'loading'
      ? new HttpError(503, 'ERR_LOADING', 'the model is still loading; retry shortly')
      : new HttpError(503, 'ERR_SHUTTING_DOWN', 'the server is shutting down');
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
  throw new HttpError(501, 'ERR_TRANSFER_CODING', expectationMessage('Transfer-Encoding', '"chunked" alone (send the body uncompressed)', header), { closeConnection: true });
}
