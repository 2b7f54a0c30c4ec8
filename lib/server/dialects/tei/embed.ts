/**
 * POST /embed, text-embeddings-inference's: `{ "inputs": str | str[], "normalize": true,
 * "truncate": false }` → `[[...]]`. Without truncate, an input longer than maxSeqLen is a 422.
 * Each input is one text as written: TEI has no sentence pairs, so ' ||| ' is not split.
 */
import { float32Json } from '../../../float32-json.js';
import { bodyObject, optionalBoolean, textList } from '../../request-validation.js';
import { checkInputLengths } from './input-length.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

export const embedRoute: Route = async ({ encoder, body, signal, binary, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const normalize = optionalBoolean('normalize', request.normalize, true);
  const truncate = optionalBoolean('truncate', request.truncate, false);
  checkQueueLimit(encoder, texts.length, 'inputs');
  if (!truncate) checkInputLengths(encoder, texts, false);
  const embeddings = await encoder.encode(texts, { normalize, signal, splitPairs: false });
  if (binary) return { vectors: embeddings.data, shape: embeddings.shape };
  return { jsonText: `[${embeddings.rows().map(float32Json).join(',')}]` };
};
