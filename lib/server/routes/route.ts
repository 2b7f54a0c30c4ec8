/** What an endpoint receives and answers. */
import type { Encoder } from '../../encoder.js';

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

export type Route = (context: RouteContext) => Promise<RouteResult>;
