/**
 * Sends a request to the pool's servers until one answers. Every request of BertClient is pure (the
 * same texts give the same vectors; nothing is stored), so one that a server cannot have answered
 * is safe to send again elsewhere: a connection refused or lost before the whole answer arrived,
 * or a 503 (the model still loading, the server draining). Nothing else is resent: an answered
 * error would be answered again, and a timeout may mean the request is still running there, so
 * resending it could double the load on a server that is only slow.
 */
import { BertEmbedError } from '../errors.js';
import type { Endpoint, EndpointPool } from './endpoint-pool.js';
import { isConnectionError, serverError, type RawResponse } from './http-exchange.js';

const SERVICE_UNAVAILABLE = 503;

export async function sendWithFailover(pool: EndpointPool, send: (endpoint: Endpoint) => Promise<RawResponse>): Promise<RawResponse> {
  const failures = new Map<Endpoint, { error: BertEmbedError; reason: string }>();
  for (let endpoint = pool.pick(failures); endpoint !== undefined; endpoint = pool.pick(failures)) {
    const failure = await attempt(endpoint, send);
    if (!('error' in failure)) return failure.response;
    pool.markDown(endpoint, failure.reason);
    failures.set(endpoint, failure);
  }
  throw noServerAnswered(pool, failures);
}

async function attempt(endpoint: Endpoint, send: (endpoint: Endpoint) => Promise<RawResponse>): Promise<{ response: RawResponse } | { error: BertEmbedError; reason: string }> {
  endpoint.pending++;
  endpoint.sent++;
  try {
    for (let retriedStale = false; ; retriedStale = true) {
      try {
        const response = await send(endpoint);
        if (response.status !== SERVICE_UNAVAILABLE) {
          endpoint.answered++;
          return { response };
        }
        const error = serverError(response);
        return { error, reason: `HTTP ${SERVICE_UNAVAILABLE} ${error.code}` };
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        // A kept-alive connection the server closed as idle just as it was reused says nothing of
        // the server: once, the same server gets the request on a fresh connection.
        if (error.staleConnection && !retriedStale) continue;
        return { error, reason: error.reason };
      }
    }
  } finally {
    endpoint.pending--;
  }
}

/** With one server, its own error, as before there were several; else ERR_CONNECTION naming each and why it failed. */
function noServerAnswered(pool: EndpointPool, failures: Map<Endpoint, { error: BertEmbedError; reason: string }>): BertEmbedError {
  const tried = [...failures];
  if (pool.endpoints.length === 1) return tried[0][1].error;
  const list = tried.map(([endpoint, failure]) => `${endpoint.name} (${failure.reason})`).join(', ');
  return new BertEmbedError(`no server could answer; tried ${list}`, 'ERR_CONNECTION', { cause: tried[tried.length - 1][1].error });
}
