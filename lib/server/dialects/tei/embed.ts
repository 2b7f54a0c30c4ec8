/**
 * POST /embed, text-embeddings-inference's: `{ "inputs": str | str[], "normalize": true,
 * "truncate": false }` → `[[...]]`. Without truncate, an input longer than maxSeqLen is a 422.
 * Each input is one text as written: TEI has no sentence pairs, so ' ||| ' is not split.
 */
import { float32Json } from '../../../float32-json.js';
import { bodyObject, optionalBoolean, textList } from '../../request-validation.js';
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

/** The API's texts are this body's inputs. */
const NAMING = bodyNaming({ texts: 'inputs' });

export const embedRoute: Route = async ({ encoder, body, signal, binary, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const normalize = optionalBoolean('normalize', request.normalize, true);
  const truncate = optionalBoolean('truncate', request.truncate, false);
  checkQueueLimit(encoder, texts.length, 'inputs');
  const embeddings = await inBodyNames(NAMING, encoder.encode(texts, { normalize, truncate, signal, splitPairs: false }));
  if (binary) return { vectors: embeddings.data, shape: embeddings.shape };
  return { jsonText: `[${embeddings.rows().map(float32Json).join(',')}]` };
};
