/**
 * POST /predict, text-embeddings-inference's: `{ "inputs": str | [str, str] | [str | [str, str]],
 * "raw_scores": false, "truncate": false }` → `[{ "label", "score" }]` for one input (a text, or a
 * pair), a list of those for a list; labels best first, softmax (sigmoid for multi-label or one
 * label) as transformers' text-classification pipeline. As TEI reads it, a list of exactly two
 * strings is one pair. Without truncate, an input longer than maxSeqLen is a 422.
 */
import type { ClassifyInput } from '../../../tasks/index.js';
import { httpError } from '../../http-error.js';
import { bodyNaming, inBodyNames } from '../../body-naming.js';
import { bodyObject, invalid, optionalBoolean } from '../../request-validation.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

const isPair = (value: unknown): value is [string, string] =>
  Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string';

/** The inputs, and whether the request held one (answered without the outer list). */
function predictInputs(value: unknown, maxInputs: number): { inputs: ClassifyInput[]; single: boolean } {
  if (typeof value === 'string' || isPair(value)) return { inputs: [value], single: true };
  const expected = 'string, [string, string] pair, or non-empty array of those';
  if (!Array.isArray(value) || value.length === 0) throw invalid('inputs', expected, value);
  if (value.length > maxInputs) {
    throw httpError('ERR_TOO_MANY_INPUTS', `Expected at most ${maxInputs} inputs for inputs (--max-inputs) but received ${value.length}`);
  }
  value.forEach((input: unknown, i) => {
    if (typeof input !== 'string' && !isPair(input)) throw invalid(`inputs[${i}]`, 'string or [string, string] pair', input);
  });
  return { inputs: value as ClassifyInput[], single: false };
}

/** The body's names are the API's; its options are sent, not passed. */
const NAMING = bodyNaming({});

export const teiPredictRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const { inputs, single } = predictInputs(request.inputs, maxInputs);
  const rawScores = optionalBoolean('raw_scores', request.raw_scores, false);
  const truncate = optionalBoolean('truncate', request.truncate, false);
  checkQueueLimit(encoder, inputs.length, 'inputs');
  const results = await inBodyNames(NAMING, encoder.classify(inputs, { rawScores, truncate, signal }));
  const lists = results.map((result) => result.labels);
  return { jsonText: JSON.stringify(single ? lists[0] : lists) };
};
