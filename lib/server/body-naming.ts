/** How a JSON endpoint names the API's fields and options in its errors: its body's own field names, and `send "truncate": true`. */
import { BertEmbedError, ERROR_CODES } from '../errors.js';
import { inSurfaceNames, renamingFields, type Naming } from '../validation.js';
import { httpErrorOf } from './http-error.js';

export function bodyNaming(fields: Readonly<Record<string, string>>): Naming {
  return renamingFields({ ...SERVER_WORDS, ...fields }, (name, value) => `send "${name}": ${JSON.stringify(value)}`);
}

/** The server's words for what the API calls a call and its queue bound. */
const SERVER_WORDS = { call: 'request', maxQueuedSentences: "the server's --max-queued" };

/**
 * Runs an Encoder call, its errors renamed into the body's names; a refusal with an HTTP status of its own
 * (ERR_INPUT_TOO_LONG, ERR_TOO_MANY_SENTENCES…) leaves the route as that HTTP answer.
 */
export async function inBodyNames<T>(naming: Naming, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const renamed = inSurfaceNames(error, naming);
    throw renamed instanceof BertEmbedError && ERROR_CODES[renamed.code].status !== null ? httpErrorOf(renamed) : renamed;
  }
}
