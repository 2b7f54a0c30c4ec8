/**
 * POST /score: `{ "inputs": str | str[], "parameters": { "metric": "within_word_l2r" } }` (or
 * "metric" at the top level) → one Encoder.score result per input, always in an array, with its
 * camelCase names: `[{ "tokens", "words", "pll", "pseudoPerplexity", "wordPseudoPerplexity",
 * "truncated" }]`. An input longer than maxSeqLen is scored on its beginning ("truncated": true).
 */
import type { Encoder } from '../../../encoder.js';
import { SCORE_METRICS, SentenceScoring, type ScoreMetric } from '../../../tasks/index.js';
import { httpError } from '../../http-error.js';
import { bodyObject, oneOfIfGiven, optionalObject, textList } from '../../request-validation.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

/** Encoder.score's default metric. */
const DEFAULT_METRIC: ScoreMetric = 'within_word_l2r';

/** The masked copies score() queues for these texts: one row each (counted only when they could pass the limit). */
function queuedRows(encoder: Encoder, texts: string[], metric: ScoreMetric): number {
  const { maxTokens } = encoder;
  if (texts.length * maxTokens <= encoder.options.maxQueuedSentences) return texts.length;
  return texts.reduce((sum, text) => {
    const encoding = encoder.tokenizer.encodeWithOffsets(text, undefined, { maxLength: maxTokens, addSpecialTokens: encoder.options.specialTokens });
    return sum + new SentenceScoring(text, encoding, false, metric).copyCount;
  }, 0);
}

export const scoreRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const texts = textList('inputs', request.inputs, maxInputs, true);
  const parameters = optionalObject('parameters', request.parameters);
  const metric = oneOfIfGiven('parameters.metric', parameters.metric, SCORE_METRICS);
  const topLevel = oneOfIfGiven('metric', request.metric, SCORE_METRICS);
  if (metric !== undefined && topLevel !== undefined && metric !== topLevel) {
    throw httpError('ERR_VALIDATION', `metric "${topLevel}" and parameters.metric "${metric}" disagree; send one of them`);
  }
  checkQueueLimit(encoder, queuedRows(encoder, texts, metric ?? topLevel ?? DEFAULT_METRIC), 'inputs', `masked copies of ${texts.length} input(s) (one per scored token or word)`);
  const scores = await encoder.score(texts, { metric: metric ?? topLevel, signal });
  return { jsonText: JSON.stringify(scores) };
};
