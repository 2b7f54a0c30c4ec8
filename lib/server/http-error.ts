/** An error with its HTTP status; the body is always JSON `{ "error": message, "code": code }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What the encoder's own errors mean over HTTP. */
export function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  if (error instanceof TypeError || error instanceof RangeError) return new HttpError(422, 'ERR_VALIDATION', message ?? String(error));
  // The model cannot answer this endpoint at all (a plain BertModel asked for the masked-LM head).
  if (code === 'ERR_NO_MLM_HEAD') return new HttpError(422, code, message!);
  if (code === 'ERR_OVERLOADED') return new HttpError(429, code, message!);
  if (code === 'ERR_CLOSED') return new HttpError(503, 'ERR_SHUTTING_DOWN', 'the server is shutting down');
  if (name === 'AbortError') return new HttpError(499, 'ERR_CANCELLED', 'the request was cancelled');
  return new HttpError(500, code ?? 'ERR_INTERNAL', message ?? String(error));
}
