/** The engine's own API (/score, /fill-mask, /status, /health, /metrics, /dashboard) and its error envelope. */
import type { Dialect } from '../../route.js';

export const ENGINE: Dialect = {
  name: 'bert-embed',
  /** `{ "error": message, "code": code }` with the code's status: also the envelope of the dialects that keep none of their own */
  errorAnswer: (error) => ({ status: error.status, jsonText: JSON.stringify({ error: error.message, code: error.code }) }),
};
