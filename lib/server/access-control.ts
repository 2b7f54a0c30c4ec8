/**
 * Who may use the server: an API key (`Authorization: Bearer <key>`, compared in constant time) and
 * the browser origins allowed by CORS. Both off unless configured; the endpoints reachable without
 * the key are marked `keyless` in the route table.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { expectationMessage, fieldError } from '../validation.js';
import { httpError } from './http-error.js';

/** Visible ASCII without spaces: what an HTTP header can carry as a bearer token. */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

const sha256 = (text: string): Buffer => crypto.createHash('sha256').update(text, 'utf8').digest();

/** Checks the API key of a request. */
export class ApiKey {
  readonly #hash: Buffer;

  constructor(key: unknown) {
    const expected = 'non-empty string of visible ASCII characters without spaces';
    if (typeof key !== 'string') throw fieldError(TypeError, 'apiKey', expected, key);
    // The key itself is never written into a message.
    if (!HEADER_SAFE_TOKEN.test(key)) {
      const received = key === '' ? 'an empty string' : `a string of ${key.length} characters with a space, a control or a non-ASCII character`;
      throw new RangeError(`Expected ${expected} for apiKey but received ${received}`);
    }
    this.#hash = sha256(key);
  }

  /** Throws 401 unless the request carries the key. */
  check(request: http.IncomingMessage): void {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    // Hashes of equal length, compared in constant time: neither the key's length nor its prefix leaks.
    if (match && crypto.timingSafeEqual(sha256(match[1]), this.#hash)) return;
    const received = header === undefined ? 'none' : match ? 'a key that does not match' : 'another scheme';
    throw httpError('ERR_UNAUTHORIZED', `Expected an Authorization: Bearer <key> header with the server's key (--api-key) but received ${received}`, {
      // RFC 6750: no error attribute when the request had no credentials
      headers: { 'www-authenticate': header === undefined ? 'Bearer realm="bert-embed"' : 'Bearer realm="bert-embed", error="invalid_token"' },
      closeConnection: true,
    });
  }
}

/** An origin as a browser sends it: scheme://host[:port], nothing after. */
function isSerializedOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
  } catch {
    return false;
  }
}

/** The origins allowed by `--cors`: '*' (any) or a comma-separated list. */
export function parseCorsOrigins(value: unknown): readonly string[] {
  const origins = typeof value === 'string' ? value.split(',').map((origin) => origin.trim()) : [];
  const valid = origins.length > 0 && (origins.length === 1 && origins[0] === '*' ? true : origins.every(isSerializedOrigin));
  if (!valid) throw fieldError(RangeError, 'cors', '"*" or a comma-separated list of origins such as https://app.example.com', value);
  return Object.freeze(origins);
}

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, accept';
/** Header names a preflight may ask for (echoed back: the key, not the header list, guards the server). */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/** Cross-origin access from browsers, for the origins of `--cors`. */
export class Cors {
  readonly #origins: readonly string[];

  constructor(origins: readonly string[]) {
    this.#origins = origins;
  }

  /** The Access-Control-Allow-Origin for this request's Origin, or undefined when it is not allowed. */
  #allowedOrigin(request: http.IncomingMessage): string | undefined {
    const origin = request.headers.origin;
    if (origin === undefined) return undefined;
    if (this.#origins[0] === '*') return '*';
    return this.#origins.includes(origin) ? origin : undefined;
  }

  /** Sets the CORS headers of an actual request's answer (its error answers included). */
  decorate(request: http.IncomingMessage, response: http.ServerResponse): void {
    const allowed = this.#allowedOrigin(request);
    if (this.#origins[0] !== '*') response.setHeader('vary', 'Origin');
    if (allowed === undefined) return;
    response.setHeader('access-control-allow-origin', allowed);
    response.setHeader('access-control-expose-headers', 'X-Request-Id, X-Embedding-Shape');
  }

  /** Answers a preflight (OPTIONS): 204 with what the browser may send, or 403 for another origin. */
  preflight(request: http.IncomingMessage, response: http.ServerResponse): void {
    if (request.headers.origin !== undefined && this.#allowedOrigin(request) === undefined) {
      throw httpError('ERR_CORS_ORIGIN', expectationMessage('Origin', 'an origin allowed by --cors', request.headers.origin));
    }
    const asked = request.headers['access-control-request-headers'];
    response.writeHead(204, {
      allow: ALLOWED_METHODS,
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': asked !== undefined && HEADER_LIST.test(asked) ? asked : DEFAULT_ALLOWED_HEADERS,
      'access-control-max-age': '600',
    });
    response.end();
  }
}
