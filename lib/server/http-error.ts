/** An error with its HTTP status; the body is always JSON `{ "error": message, "code": code }`. */
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

/** What the encoder's own errors mean over HTTP. */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  if (error instanceof TypeError || error instanceof RangeError) return new HttpError(422, 'ERR_VALIDATION', message ?? String(error));
  // The model cannot answer this endpoint at all (a plain BertModel asked for the masked-LM or classification head),
  // or an input too long for it without truncation.
  if (code === 'ERR_NO_MLM_HEAD' || code === 'ERR_NO_CLASSIFIER_HEAD' || code === 'ERR_INPUT_TOO_LONG') return new HttpError(422, code, message!);
  // Other requests fill the queue now; this one fits on its own (routes refuse larger ones with 413 first).
  if (code === 'ERR_OVERLOADED') return new HttpError(429, code, message!, { headers: { 'retry-after': '1' } });
  if (code === 'ERR_CLOSED') return new HttpError(503, 'ERR_SHUTTING_DOWN', 'the server is shutting down');
  if (name === 'AbortError') return new HttpError(499, 'ERR_CANCELLED', 'the request was cancelled');
  return new HttpError(500, code ?? 'ERR_INTERNAL', message ?? String(error));
}
