// ES module entry: the same objects as the CommonJS build, so `import` and `require` share one addon.
import bertEmbed from './index.js';

export const { Encoder, Embeddings, BertEmbedError, POOLING_STRATEGIES, DTYPES, WordPieceTokenizer, libtorchInfo } = bertEmbed;
export type { EncodeOptions, EncoderStatus, TokenizedText, EncoderOptions, PoolingStrategy, Dtype, Encoding } from './index.js';
