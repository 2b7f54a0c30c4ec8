/**
 * What an endpoint is: an entry of the route table (route-table.ts), its handler, and the dialect
 * (the API it speaks) whose error envelope its errors take.
 */
import type http from 'node:http';
import type { Encoder } from '../encoder.js';
import type { BertAsServiceStatus, ListeningOn } from './dialects/bert-as-service/status.js';
import type { HttpError } from './http-error.js';
import type { ServerMetrics } from './metrics.js';

/** What a model endpoint receives (built by model-context.ts). */
export interface RouteContext {
  encoder: Encoder;
  body: Record<string, unknown>;
  /** aborted when the client goes away: its queued sentences are dropped */
  signal: AbortSignal;
  /** the client asked for `Accept: application/octet-stream` */
  binary: boolean;
  maxInputs: number;
  /** the name /v1/embeddings reports */
  modelName: string;
  /** the server's --show-tokens-to-client: whether /encode may answer the tokens a client asks for */
  showTokensToClient: boolean;
}

export type RouteResult =
  /** JSON text built by the route (vectors are printed as float32, not as doubles) */
  | { jsonText: string; headers?: Record<string, string> }
  /** raw little-endian float32, shape in the X-Embedding-Shape header */
  | { vectors: Float32Array; shape: number[]; headers?: Record<string, string> };

/** A model endpoint: a request body in, the model's answer out. */
export type Route = (context: RouteContext) => Promise<RouteResult>;

/** What a handler answers: a route's result, other text, or 'written' when it wrote the response itself. */
export type Answer = RouteResult | { text: string; contentType: string } | 'written';

export type ServerState = 'loading' | 'ready' | 'closing';

/** The server's settings a handler may read. */
export interface ServerSettings {
  maxInputs: number;
  modelName: string;
  showTokensToClient: boolean;
}

/** The server as its handlers see it. */
export interface ServerView {
  readonly state: ServerState;
  readonly settings: ServerSettings;
  /** set once the model has loaded (and kept while the server shuts down) */
  readonly encoder: Encoder | undefined;
  readonly metrics: ServerMetrics;
  readonly bertAsService: BertAsServiceStatus;
  listeningOn(): ListeningOn;
}

/** One request, as a handler sees it. */
export interface Exchange {
  readonly request: http.IncomingMessage;
  readonly response: http.ServerResponse;
  readonly url: URL;
  /** the parts of the path its entry's pattern names (TF Serving's model and version) */
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  readonly server: ServerView;
  /** the JSON body, within --max-body-bytes and --request-timeout */
  readBody(): Promise<unknown>;
  /** the encoder, or a 503 while the model loads or the server shuts down */
  readyEncoder(): Encoder;
}

export type Handler = (exchange: Exchange) => Promise<Answer>;

/** An API the server speaks: its name in the docs and its error envelope. */
export interface Dialect {
  name: string;
  /** the status and JSON body of an error on this dialect's paths */
  errorAnswer(error: HttpError): { status: number; jsonText: string };
}

/** One endpoint of the route table. */
export interface RouteEntry {
  method: 'GET' | 'POST';
  /** the path, or for a family of paths its pattern as documented (`<name>` a segment, `[...]` optional) */
  path: string;
  /** a family's test: the parts of a path it takes, or undefined; without it the path must equal `path` */
  match?: (pathname: string) => Record<string, string | undefined> | undefined;
  /** a family's name in /metrics and in 405 messages, the same whatever the model name */
  label?: string;
  dialect: Dialect;
  handler: Handler;
  /** one line, for README and `serve --help` */
  description: string;
  /** how the 404 message suggests it (`{model}`: the served model's name); null: not suggested; default: `path` */
  hint?: string | null;
  /** reachable without the API key */
  keyless?: true;
  /** HEAD is answered too, as GET without the body */
  head?: true;
}
