export { WordPieceTokenizer, PAIR_SEPARATOR } from './wordpiece-tokenizer.js';
export type { DecodeOptions, Encoding, EncodeOptions, EncodingWithOffsets } from './wordpiece-tokenizer.js';
export { DEFAULT_TOKENIZER_CONFIG } from './config.js';
export type { TokenizerConfig } from './config.js';
