/**
 * POST /fill-mask, the shape of transformers.js's (and transformers') fill-mask pipeline:
 * `{ "inputs": str | str[], "parameters": { "top_k": 5 } }` → for each text, its candidates
 * `{ "score", "token", "token_str", "sequence" }` best first: a flat list when the text has one
 * [MASK], a list per [MASK] when it has several. A single string is answered with its text's
 * answer, a list of strings with a list of them (a list of one included, unlike transformers'
 * Python pipeline, which unwraps it).
 */
import { invalid, bodyObject, optionalIntegerIn, optionalObject, textList } from '../../request-validation.js';
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

/** The API's texts are this body's inputs. */
const NAMING = bodyNaming({ texts: 'inputs' });

export const fillMaskRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const parameters = optionalObject('parameters', request.parameters);
  if (parameters.targets !== undefined) throw invalid('parameters.targets', 'no value (targets are not supported)', parameters.targets);
  const topK = optionalIntegerIn('parameters.top_k', parameters.top_k, 1, encoder.config.vocabSize);
  checkQueueLimit(encoder, texts.length, 'inputs');
  const results = await inBodyNames(NAMING, encoder.fillMask(texts, { ...(topK === undefined ? {} : { topK }), splitPairs: false, signal }));
  const answers = results.map((masks) => {
    const lists = masks.map((candidates) =>
      candidates.map(({ score, token, tokenStr, sequence }) => ({ score, token, token_str: tokenStr, sequence })),
    );
    return lists.length === 1 ? lists[0] : lists;
  });
  return { jsonText: JSON.stringify(typeof request.inputs === 'string' ? answers[0] : answers) };
};
