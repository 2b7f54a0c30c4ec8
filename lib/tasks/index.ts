/** The tasks, each a folder: what the Encoder delegates to and what surfaces may name (types, closed lists). */
export { embed } from './embed/embed.js';
export { encodeStream } from './embed/encode-stream.js';
export type { EncodeOptions } from './embed/options.js';
export { pooledDimension } from './embed/pooled-head.js';
export { tokenize, type TokenizedText } from './tokenize/tokenize.js';
export { score, type ScoreOptions } from './score/score.js';
export { SCORE_METRICS, type ScoreMetric, type SentenceScore, type ScoredToken, type ScoredWord } from './score/sentence-scoring.js';
export { fillMask, type FillMaskOptions } from './fill-mask/fill-mask.js';
export type { FillMaskCandidate } from './fill-mask/candidates.js';
export { maskedLmLogProbs, type MaskedLmRow } from './masked-lm-logprobs/masked-lm-logprobs.js';
export { encodeSparse, type SparseEncodeOptions } from './sparse/sparse.js';
export type { SparseVector } from './sparse/sparse-vector.js';
export { rerank, type RerankOptions } from './rerank/rerank.js';
export type { RerankResult } from './rerank/cross-encoder-scores.js';
export { classify, type ClassifyOptions, type ClassifyResult } from './classify/classify.js';
export type { LabelScore } from './classify/label-scores.js';
export type { ClassifyInput } from './shared/pair-inputs.js';
export { classifyTokens, AGGREGATION_STRATEGIES, type AggregationStrategy, type ClassifyTokensOptions, type TokenEntity } from './classify-tokens/classify-tokens.js';
export type { TaskContext } from './shared/task-context.js';
export { TASKS, requireTask, tasksOf, type TaskName } from './registry.js';
/** How a text writes a sentence pair, 'A ||| B' (bert-as-service's convention): what the CLI's pair inputs split on. */
export { PAIR_SEPARATOR } from '../tokenizer/index.js';
