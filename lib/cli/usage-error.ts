/**
 * Errors the CLI reports in one line on stderr. A UsageError (bad flags or arguments) exits 2;
 * anything else (a bad file, a failed model load, a network failure) exits 1.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An input problem with its place: `file:line: message`. */
export class InputError extends Error {
  readonly code = 'ERR_INPUT';

  constructor(source: string, line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'InputError';
  }
}
