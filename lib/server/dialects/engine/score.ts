/**
 * POST /score: `{ "inputs": str | str[], "parameters": { "metric": "within_word_l2r" } }` (or
 * "metric" at the top level) → one Encoder.score result per input, always in an array, with its
 * camelCase names: `[{ "tokens", "words", "pll", "pseudoPerplexity", "wordPseudoPerplexity",
 * "truncated" }]`. An input longer than maxSeqLen is scored on its beginning ("truncated": true).
 */
import { SCORE_METRICS } from '../../../tasks/index.js';
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { httpError } from '../../http-error.js';
import { bodyObject, oneOfIfGiven, optionalObject, textList } from '../../request-validation.js';
import type { Route } from '../../route.js';

/** The API's texts are this body's inputs (a request larger than the queue is refused by score itself, which counts its masked copies). */
const NAMING = bodyNaming({ texts: 'inputs' });

export const scoreRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const parameters = optionalObject('parameters', request.parameters);
  const metric = oneOfIfGiven('parameters.metric', parameters.metric, SCORE_METRICS);
  const topLevel = oneOfIfGiven('metric', request.metric, SCORE_METRICS);
  if (metric !== undefined && topLevel !== undefined && metric !== topLevel) {
    throw httpError('ERR_VALIDATION', `metric "${topLevel}" and parameters.metric "${metric}" disagree; send one of them`);
  }
  const scores = await inBodyNames(NAMING, encoder.score(texts, { metric: metric ?? topLevel, signal }));
  return { jsonText: JSON.stringify(scores) };
};
