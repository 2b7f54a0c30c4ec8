// ES module entry: the same objects as the CommonJS build, so `import` and `require` share one addon.
import bertEmbed from './index.js';

export const { Encoder, Embeddings, BertEmbedError, ERROR_CODES, POOLING_STRATEGIES, DTYPES, SCORE_METRICS, WordPieceTokenizer, libtorchInfo, BertClient, EmbeddingServer } = bertEmbed;
export type {
  BertClientTarget,
  BertClientOptions,
  ClientEncodeOptions,
  EmbeddingServerOptions,
  EncodeOptions,
  EncoderStatus,
  TokenizedText,
  EncoderOptions,
  PoolingStrategy,
  Dtype,
  Encoding,
  ScoreOptions,
  FillMaskOptions,
  SparseEncodeOptions,
  MaskedLmRow,
  HeadName,
  ScoreMetric,
  SentenceScore,
  ScoredToken,
  ScoredWord,
  FillMaskCandidate,
  SparseVector,
  BertEmbedErrorCode,
} from './index.js';
