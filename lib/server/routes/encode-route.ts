/**
 * POST /encode, bert-as-service's request and response:
 * `{ "id": 123, "texts": [...], "is_tokenized": false, "show_tokens": false }` →
 * `{ "id": 123, "results": [[...]], "status": 200 }` (with "tokens" when asked).
 */
import { nestedFloat32Json } from '../../float32-json.js';
import { bodyObject, optionalBoolean, textList, tokenLists } from '../request-validation.js';
import type { Route } from './route.js';

export const encodeRoute: Route = async ({ encoder, body, signal, binary, maxInputs }) => {
  const request = bodyObject(body);
  const id = request.id ?? null;
  const isTokenized = optionalBoolean('is_tokenized', request.is_tokenized, false);
  const showTokens = optionalBoolean('show_tokens', request.show_tokens, false);
  const texts = isTokenized ? tokenLists('texts', request.texts, maxInputs) : textList('texts', request.texts, maxInputs, false);
  const embeddings = await encoder.encode(texts, { isTokenized, showTokens, signal });
  const headers: Record<string, string> = id === null ? {} : { 'x-request-id': String(id) };
  if (binary) return { vectors: embeddings.data, shape: embeddings.shape, headers };
  const rowShape = embeddings.shape.slice(1);
  const results = embeddings.rows().map((row) => nestedFloat32Json(row, rowShape));
  const tokens = embeddings.tokens ? `,"tokens":${JSON.stringify(embeddings.tokens)}` : '';
  return { jsonText: `{"id":${JSON.stringify(id)},"results":[${results.join(',')}]${tokens},"status":200}`, headers };
};
