/**
 * POST /embed_sparse, text-embeddings-inference's: `{ "inputs": str | str[], "truncate": false }`
 * → `[[{ "index": i, "value": v }, ...], ...]`, the nonzero SPLADE weights of each input by
 * ascending vocabulary id. Without truncate, an input longer than maxSeqLen is a 422.
 */
import { bodyObject, optionalBoolean, textList } from '../../request-validation.js';
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

/** The API's texts are this body's inputs. */
const NAMING = bodyNaming({ texts: 'inputs' });

export const embedSparseRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const truncate = optionalBoolean('truncate', request.truncate, false);
  checkQueueLimit(encoder, texts.length, 'inputs');
  const vectors = await inBodyNames(NAMING, encoder.encodeSparse(texts, { splitPairs: false, truncate, signal }));
  const rows = vectors.map(({ indices, values }) => {
    const entries: string[] = [];
    // float32 values with the digits that read back to the same float32, as /embed prints them
    for (let k = 0; k < indices.length; k++) entries.push(`{"index":${indices[k]},"value":${Number(values[k].toPrecision(9))}}`);
    return `[${entries.join(',')}]`;
  });
  return { jsonText: `[${rows.join(',')}]` };
};
