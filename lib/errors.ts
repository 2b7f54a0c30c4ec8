/**
 * The one error class for failures that are not argument mistakes: a model that cannot be
 * loaded, a native failure, a closed encoder. `code` is stable; the message is for people.
 * Argument mistakes are plain TypeError / RangeError.
 */
export class BertEmbedError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BertEmbedError';
    this.code = code;
  }
}

/** Native promise rejections carry {message, code}; give them the package's error class. */
export function fromNativeError(error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string') return new BertEmbedError(error.message, code);
  return error instanceof Error ? error : new BertEmbedError(String(error), 'ERR_NATIVE');
}
