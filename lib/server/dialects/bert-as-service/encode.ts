/**
 * POST /encode, bert-as-service's request and response:
 * `{ "id": 123, "texts": [...], "is_tokenized": false, "show_tokens": false }` →
 * `{ "id": 123, "results": [[...]], "status": 200 }` (with "tokens" when asked). As in
 * bert-as-service, a text 'A ||| B' is the sentence pair (A, B); "show_tokens" needs a server started
 * with --show-tokens-to-client (else 403 ERR_TOKENS_NOT_ALLOWED).
 */
import { nestedFloat32Json } from '../../../float32-json.js';
import { httpError } from '../../http-error.js';
import { bodyObject, optionalBoolean, textList, tokenLists } from '../../request-validation.js';
import { checkQueueLimit } from '../../queue-limit.js';
import { modelContext } from '../../model-context.js';
import type { Handler, Route } from '../../route.js';

/** The longest id echoed in X-Request-Id; longer ones (and any id a header cannot carry) travel in the body only. */
export const MAX_HEADER_ID_LENGTH = 128;

/**
 * The X-Request-Id header for an id: a string or number whose text is 1 to 128 visible ASCII
 * characters. Anything else (non-ASCII, spaces, controls, a 100 KB id) is echoed in the body only.
 */
function requestIdHeader(id: unknown): Record<string, string> {
  if (typeof id !== 'string' && typeof id !== 'number') return {};
  const text = String(id);
  return text.length <= MAX_HEADER_ID_LENGTH && /^[\x21-\x7e]+$/.test(text) ? { 'x-request-id': text } : {};
}

export const encodeRoute: Route = async ({ encoder, body, signal, binary, maxInputs, showTokensToClient }) => {
  const request = bodyObject(body);
  const id = request.id ?? null;
  const isTokenized = optionalBoolean('is_tokenized', request.is_tokenized, false);
  const showTokens = optionalBoolean('show_tokens', request.show_tokens, false);
  // As bert-as-service's -show_tokens_to_client: the server, not the client, decides.
  if (showTokens && !showTokensToClient) {
    throw httpError('ERR_TOKENS_NOT_ALLOWED', 'this server does not show tokens to clients: start it with --show-tokens-to-client, or send show_tokens: false');
  }
  const texts = isTokenized ? tokenLists('texts', request.texts, maxInputs) : textList('texts', request.texts, maxInputs, false);
  checkQueueLimit(encoder, texts.length, 'texts');
  const embeddings = await encoder.encode(texts, { isTokenized, showTokens, signal });
  const headers = requestIdHeader(id);
  if (binary) return { vectors: embeddings.data, shape: embeddings.shape, headers };
  const rowShape = embeddings.shape.slice(1);
  const results = embeddings.rows().map((row) => nestedFloat32Json(row, rowShape));
  const tokens = embeddings.tokens ? `,"tokens":${JSON.stringify(embeddings.tokens)}` : '';
  return { jsonText: `{"id":${JSON.stringify(id)},"results":[${results.join(',')}]${tokens},"status":200}`, headers };
};

/** The table's handler: bert-as-service's statistic counts its /encode requests once answered (the route has checked body.texts by then). */
export const encodeHandler: Handler = async (exchange) => {
  const context = await modelContext(exchange);
  return exchange.server.bertAsService.statistic.trackEncode(() => (context.body.texts as unknown[]).length, () => encodeRoute(context));
};
