/**
 * An error with its HTTP status. The status of a code is ERROR_CODES' (lib/errors.ts): a code added
 * there with a status is answered with it, with no edit here. A dialect may answer another status
 * where its API prescribes one (TF Serving's 400s: dialects/tf-serving/dialect.ts).
 */
import { ERROR_CODES, isBertEmbedErrorCode, type BertEmbedErrorCode } from '../errors.js';

export interface HttpErrorOptions {
  /** extra response headers (WWW-Authenticate on a 401) */
  headers?: Record<string, string>;
  /**
   * answer with `Connection: close` and end the connection: the rest of the request cannot or
   * should not be read (a body over the limit, one too slow, one in an unknown coding, a stranger's)
   */
  closeConnection?: boolean;
}

export class HttpError extends Error {
  readonly headers: Readonly<Record<string, string>>;
  readonly closeConnection: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.headers = options.headers ?? {};
    this.closeConnection = options.closeConnection ?? false;
  }
}

/** The codes ERROR_CODES gives an HTTP status. */
export type HttpErrorCode = { [Code in BertEmbedErrorCode]: (typeof ERROR_CODES)[Code]['status'] extends number ? Code : never }[BertEmbedErrorCode];

/** An HttpError with its code's status from ERROR_CODES. */
export function httpError(code: HttpErrorCode, message: string, options?: HttpErrorOptions): HttpError {
  return new HttpError(ERROR_CODES[code].status, code, message, options);
}

/** Codes the server answers as another, as their ERROR_CODES meanings say; ERR_CLOSED with the server's words. */
const ANSWERED_AS: Partial<Record<BertEmbedErrorCode, { code: HttpErrorCode; message?: string }>> = {
  ERR_UNKNOWN_OPTION: { code: 'ERR_VALIDATION' },
  ERR_CLOSED: { code: 'ERR_SHUTTING_DOWN', message: 'the server is shutting down' },
};

/** Headers that go with a code: the queue is full now, and this request fits on its own (larger ones get 413 first). */
const HEADERS_OF: Partial<Record<BertEmbedErrorCode, Record<string, string>>> = { ERR_OVERLOADED: { 'retry-after': '1' } };

/** What the encoder's own errors mean over HTTP. */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: string };
  const text = message ?? String(error);
  if (name === 'AbortError') return httpError('ERR_CANCELLED', 'the request was cancelled');
  if (isBertEmbedErrorCode(code)) {
    const answered = ANSWERED_AS[code];
    if (answered) return httpError(answered.code, answered.message ?? text);
    const { status } = ERROR_CODES[code];
    if (status !== null) return new HttpError(status, code, text, { headers: HEADERS_OF[code] });
  }
  // The API's argument mistakes, whatever other code they carry.
  if (error instanceof TypeError || error instanceof RangeError) return httpError('ERR_VALIDATION', text);
  return new HttpError(500, typeof code === 'string' ? code : 'ERR_INTERNAL', text);
}
