/**
 * A request larger than the encoder's whole queue (--max-queued) can never be accepted, however
 * idle the server: it is refused with 413 naming the limit, not with 429's "retry later".
 */
import type { Encoder } from '../encoder.js';
import { httpError } from './http-error.js';

/** `rows`: what the request puts in the queue (one per input; /score one per masked copy). */
export function checkQueueLimit(encoder: Encoder, rows: number, field: string, what = 'sentences'): void {
  const limit = encoder.options.maxQueuedSentences;
  if (rows <= limit) return;
  throw httpError(
    'ERR_TOO_MANY_SENTENCES',
    `Expected at most ${limit} queued sentences in one request (the server's --max-queued) for ${field} but received ${rows} ${what}; split the request`,
  );
}
