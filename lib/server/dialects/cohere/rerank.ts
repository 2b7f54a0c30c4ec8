/**
 * POST /v1/rerank, the shape Cohere's and Jina's rerank APIs (and the retrieval frameworks' clients
 * of them) speak: `{ "model", "query", "documents": [str | { "text": str }], "top_n", "return_documents" }`
 * → `{ "model", "results": [{ "index", "relevance_score", "document"?: { "text" } }] }`, best first.
 * Long documents are cut (these APIs truncate rather than refuse).
 */
import { bodyObject, invalid, optionalBoolean, optionalIntegerIn } from '../../request-validation.js';
import { httpError } from '../../http-error.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

/** Cohere takes each document as a string or as `{ "text": str }`. */
function documentTexts(value: unknown, maxInputs: number): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('documents', 'non-empty array of strings or {"text": string} objects', value);
  if (value.length > maxInputs) {
    throw httpError('ERR_TOO_MANY_INPUTS', `Expected at most ${maxInputs} inputs for documents (--max-inputs) but received ${value.length}`);
  }
  return value.map((document: unknown, i) => {
    if (typeof document === 'string') return document;
    const text = document !== null && typeof document === 'object' && !Array.isArray(document) ? (document as { text?: unknown }).text : undefined;
    if (typeof text !== 'string') throw invalid(`documents[${i}]`, 'string or {"text": string} object', document);
    return text;
  });
}

export const cohereRerankRoute: Route = async ({ encoder, body, signal, maxInputs, modelName }) => {
  const request = bodyObject(body);
  if (request.model !== undefined && request.model !== null && typeof request.model !== 'string') throw invalid('model', 'string', request.model);
  if (typeof request.query !== 'string') throw invalid('query', 'string', request.query);
  const documents = documentTexts(request.documents, maxInputs);
  const topN = optionalIntegerIn('top_n', request.top_n, 1, Number.MAX_SAFE_INTEGER);
  const returnDocuments = optionalBoolean('return_documents', request.return_documents, false);
  checkQueueLimit(encoder, documents.length, 'documents');
  const ranked = await encoder.rerank(request.query, documents, { topK: topN, returnDocuments, signal });
  const results = ranked.map(({ index, score, document }) =>
    returnDocuments ? { index, relevance_score: score, document: { text: document } } : { index, relevance_score: score },
  );
  return { jsonText: JSON.stringify({ model: typeof request.model === 'string' ? request.model : modelName, results }) };
};
