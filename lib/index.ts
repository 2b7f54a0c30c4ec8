export {
  Encoder,
  type EncodeOptions,
  type TokenizedText,
  type ScoreOptions,
  type FillMaskOptions,
  type SparseEncodeOptions,
  type MaskedLmRow,
  type HeadName,
  type RerankOptions,
  type ClassifyOptions,
  type ClassifyResult,
  type ExportOptions,
  type ExportTarget,
} from './encoder.js';
export { SCORE_METRICS, type ScoreMetric, type SentenceScore, type ScoredToken, type ScoredWord } from './heads/masked-lm-scoring.js';
export type { FillMaskCandidate } from './heads/fill-mask.js';
export type { SparseVector } from './heads/sparse-vector.js';
export type { RerankResult, LabelScore } from './heads/sequence-classification.js';
export type { ClassifyInput } from './heads/pair-inputs.js';
export type { EncoderStatus } from './pool/encoder-status.js';
export { Embeddings } from './embeddings.js';
export { BertEmbedError, ERROR_CODES, type BertEmbedErrorCode } from './errors.js';
export { POOLING_STRATEGIES, DTYPES, type EncoderOptions, type PoolingStrategy, type Dtype } from './options.js';
export { WordPieceTokenizer, type Encoding } from './tokenizer/index.js';
export { libtorchInfo } from './native/libtorch-info.js';
export { BertClient, type BertClientTarget, type BertClientOptions, type ClientEncodeOptions, type BertClientEndpoint, type BertClientBalance, type BertClientEndpointStats } from './client/bert-client.js';
export { EmbeddingServer, type EmbeddingServerOptions } from './server/embedding-server.js';
