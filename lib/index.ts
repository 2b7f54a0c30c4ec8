export { Encoder, type HeadName, type ExportOptions, type ExportTarget } from './encoder.js';
export {
  SCORE_METRICS,
  AGGREGATION_STRATEGIES,
  type ScoreMetric,
  type SentenceScore,
  type ScoredToken,
  type ScoredWord,
  type FillMaskCandidate,
  type SparseVector,
  type RerankResult,
  type LabelScore,
  type ClassifyInput,
  type AggregationStrategy,
  type ClassifyTokensOptions,
  type TokenEntity,
  type EncodeOptions,
  type TokenizedText,
  type ScoreOptions,
  type FillMaskOptions,
  type SparseEncodeOptions,
  type MaskedLmRow,
  type RerankOptions,
  type ClassifyOptions,
  type ClassifyResult,
} from './tasks/index.js';
export type { EncoderStatus } from './encoder/encoder-status.js';
export { Embeddings } from './embeddings.js';
export { BertEmbedError, ERROR_CODES, type BertEmbedErrorCode } from './errors.js';
export { POOLING_STRATEGIES, DTYPES, type EncoderOptions, type PoolingStrategy, type Dtype } from './options.js';
export { WordPieceTokenizer, type Encoding } from './tokenizer/index.js';
export { libtorchInfo } from './native/libtorch-info.js';
export { BertClient, type BertClientTarget, type BertClientOptions, type ClientEncodeOptions, type BertClientEndpoint, type BertClientBalance, type BertClientEndpointStats } from './client/bert-client.js';
export { EmbeddingServer, type EmbeddingServerOptions } from './server/embedding-server.js';
