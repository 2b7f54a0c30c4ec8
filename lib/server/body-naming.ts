/** How a JSON endpoint names the API's fields and options in its errors: its body's own field names, and `send "truncate": true`. */
import { inSurfaceNames, renamingFields, type Naming } from '../validation.js';

export function bodyNaming(fields: Readonly<Record<string, string>>): Naming {
  return renamingFields({ ...SERVER_WORDS, ...fields }, (name, value) => `send "${name}": ${JSON.stringify(value)}`);
}

/** The server's words for what the API calls a call and its queue bound. */
const SERVER_WORDS = { call: 'request', maxQueuedSentences: "the server's --max-queued" };

/** Runs an Encoder call, its errors renamed into the body's names. */
export async function inBodyNames<T>(naming: Naming, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw inSurfaceNames(error, naming);
  }
}
