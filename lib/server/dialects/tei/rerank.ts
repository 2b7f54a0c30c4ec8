/**
 * POST /rerank, text-embeddings-inference's: `{ "query": str, "texts": [str], "raw_scores": false,
 * "return_text": false, "truncate": false }` → `[{ "index", "score", "text"? }]`, best first.
 * Scores as sentence-transformers' CrossEncoder.predict gives them (the logit with raw_scores).
 * Without truncate, a query–text pair longer than maxSeqLen is a 422, as TEI's.
 */
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { bodyObject, invalid, optionalBoolean, textList } from '../../request-validation.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

/** The API's documents are this body's texts. */
const NAMING = bodyNaming({ documents: 'texts' });

export const rerankRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  if (typeof request.query !== 'string') throw invalid('query', 'string', request.query);
  const texts = textList('texts', request.texts, maxInputs, false);
  const rawScores = optionalBoolean('raw_scores', request.raw_scores, false);
  const returnText = optionalBoolean('return_text', request.return_text, false);
  const truncate = optionalBoolean('truncate', request.truncate, false);
  checkQueueLimit(encoder, texts.length, 'texts');
  const ranked = await inBodyNames(NAMING, encoder.rerank(request.query, texts, { rawScores, returnDocuments: returnText, truncate, signal }));
  return { jsonText: JSON.stringify(ranked.map(({ index, score, document }) => (returnText ? { index, score, text: document } : { index, score }))) };
};
