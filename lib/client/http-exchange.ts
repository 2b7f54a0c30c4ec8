/**
 * One HTTP request to one server of a BertClient, answered with whatever status it has. It fails
 * only for the connection (ERR_CONNECTION: none could be made, or it broke before the whole answer
 * arrived), the client's timeout (ERR_TIMEOUT) or the caller's abort.
 */
import http from 'node:http';
import { BertEmbedError, errorCodeOf } from '../errors.js';
import type { Endpoint } from './endpoint-pool.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ExchangeRequest {
  method: string;
  path: string;
  body: string | undefined;
  accept: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** A connection failure: `staleConnection` when a kept-alive connection was reset before any answer (the server may have closed it as idle). */
export type ConnectionError = BertEmbedError & { code: 'ERR_CONNECTION'; reason: string; staleConnection: boolean };

export function exchange(endpoint: Endpoint, request: ExchangeRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = { accept: request.accept, ...request.headers, ...(request.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(request.body)) }) };
    const outgoing = http.request({ ...endpoint.location, method: request.method, path: request.path, agent: endpoint.agent, signal: request.signal, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      // The answer was cut short (the server died while sending it): nothing usable arrived.
      response.once('error', (error: NodeJS.ErrnoException) => reject(connectionError(endpoint, `the connection to ${endpoint.name} broke before the whole answer arrived`, error, false)));
      response.once('end', () => {
        if (response.complete) resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
        else reject(connectionError(endpoint, `the connection to ${endpoint.name} broke before the whole answer arrived`, new Error('incomplete answer'), false));
      });
    });
    outgoing.setTimeout(request.timeoutMs, () =>
      outgoing.destroy(new BertEmbedError(`no answer from the server at ${endpoint.name} within ${request.timeoutMs} ms`, 'ERR_TIMEOUT')),
    );
    outgoing.once('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof BertEmbedError || error.name === 'AbortError') reject(error);
      else reject(connectionError(endpoint, `cannot reach the server at ${endpoint.name}`, error, outgoing.reusedSocket && error.code === 'ECONNRESET'));
    });
    outgoing.end(request.body);
  });
}

export function isConnectionError(error: unknown): error is ConnectionError {
  return error instanceof BertEmbedError && error.code === 'ERR_CONNECTION' && 'reason' in error;
}

function connectionError(endpoint: Endpoint, message: string, cause: NodeJS.ErrnoException, staleConnection: boolean): ConnectionError {
  const reason = cause.code ?? cause.message;
  return Object.assign(new BertEmbedError(`${message} (${reason})`, 'ERR_CONNECTION', { cause }), { reason, staleConnection }) as ConnectionError;
}

/** The server's JSON error `{ error, code }` as a BertEmbedError with the HTTP `status`. */
export function serverError(response: RawResponse): BertEmbedError & { status: number } {
  try {
    const { error, code } = JSON.parse(response.body.toString('utf8')) as { error: string; code: string };
    if (typeof error === 'string') return Object.assign(new BertEmbedError(error, errorCodeOf(code, 'ERR_SERVER')), { status: response.status });
  } catch {
    // not JSON: described below
  }
  return Object.assign(new BertEmbedError(`the server answered HTTP ${response.status}`, 'ERR_SERVER'), { status: response.status });
}
