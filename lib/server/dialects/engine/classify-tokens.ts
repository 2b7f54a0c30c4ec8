/**
 * POST /classify-tokens: `{ "inputs": str | [str], "aggregation_strategy": "none", "ignore_labels": ["O"],
 * "stride": n }` → one list of entities per input, as transformers' token-classification pipeline gives
 * them (a single string gets its one list, still inside a list). Errors name the body's own fields.
 */
import { AGGREGATION_STRATEGIES } from '../../../tasks/index.js';
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { checkQueueLimit } from '../../queue-limit.js';
import { bodyObject, oneOfIfGiven, textList } from '../../request-validation.js';
import type { Route } from '../../route.js';

/** The API's names as this body's. */
const NAMING = bodyNaming({ texts: 'inputs', aggregationStrategy: 'aggregation_strategy', ignoreLabels: 'ignore_labels' });

export const classifyTokensRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const aggregationStrategy = oneOfIfGiven('aggregation_strategy', request.aggregation_strategy, AGGREGATION_STRATEGIES);
  checkQueueLimit(encoder, texts.length, 'inputs');
  const options = { aggregationStrategy, ignoreLabels: request.ignore_labels, stride: request.stride, signal } as Parameters<typeof encoder.classifyTokens>[1];
  const entities = await inBodyNames(NAMING, encoder.classifyTokens(texts, options));
  return { jsonText: JSON.stringify(entities) };
};
