import {
  assertBoolean,
  assertNonNegativeInteger,
  assertPlainObject,
  assertPositiveInteger,
  assertString,
  fieldError,
} from '../validation.js';

export interface TokenizerConfig {
  /** Lowercase the text (uncased models). */
  doLowerCase: boolean;
  /** Strip accents (NFD, drop Mn); null follows doLowerCase, false lowercases without stripping. */
  stripAccents: boolean | null;
  /** Put spaces around CJK ideographs so each is its own word. */
  tokenizeChineseChars: boolean;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
  /** Longer words (counted in code points) become the unknown token. */
  maxInputCharsPerWord: number;
  /** Prefix of word-continuation pieces in the vocabulary ("##" for BERT). */
  continuingSubwordPrefix: string;
  /** The model's maximum sequence length, from tokenizer_config.json; informative, never applied implicitly. */
  modelMaxLength?: number;
  /** decode: the WordPiece decoder's own clean-up of each piece (tokenizer.json's decoder.cleanup). */
  decoderCleanup: boolean;
  /** decode's default for transformers' clean-up of the decoded text (tokenizer_config.json's clean_up_tokenization_spaces). */
  cleanUpTokenizationSpaces: boolean;
}

export const DEFAULT_TOKENIZER_CONFIG: Readonly<TokenizerConfig> = Object.freeze({
  doLowerCase: true,
  stripAccents: null,
  tokenizeChineseChars: true,
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  padToken: '[PAD]',
  maskToken: '[MASK]',
  maxInputCharsPerWord: 100,
  continuingSubwordPrefix: '##',
  // What HF's BERT converter writes and BertTokenizer defaults to.
  decoderCleanup: true,
  cleanUpTokenizationSpaces: true,
});

const CONFIG_KEYS = new Set<string>([...Object.keys(DEFAULT_TOKENIZER_CONFIG), 'modelMaxLength']);

/** Fills defaults and checks every field, naming it in the error. */
export function resolveTokenizerConfig(partial: Partial<TokenizerConfig> | undefined): TokenizerConfig {
  if (partial === undefined) return { ...DEFAULT_TOKENIZER_CONFIG };
  assertPlainObject('config', partial);
  for (const key of Object.keys(partial)) {
    if (!CONFIG_KEYS.has(key)) {
      throw fieldError(TypeError, 'a config key', `one of ${[...CONFIG_KEYS].join(', ')}`, key);
    }
  }
  const config: TokenizerConfig = { ...DEFAULT_TOKENIZER_CONFIG };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  assertBoolean('config.doLowerCase', config.doLowerCase);
  if (config.stripAccents !== null) {
    if (typeof config.stripAccents !== 'boolean') {
      throw fieldError(TypeError, 'config.stripAccents', 'boolean or null', config.stripAccents);
    }
  }
  assertBoolean('config.tokenizeChineseChars', config.tokenizeChineseChars);
  assertBoolean('config.decoderCleanup', config.decoderCleanup);
  assertBoolean('config.cleanUpTokenizationSpaces', config.cleanUpTokenizationSpaces);
  for (const key of ['unkToken', 'clsToken', 'sepToken', 'padToken', 'maskToken', 'continuingSubwordPrefix'] as const) {
    assertString(`config.${key}`, config[key]);
  }
  assertNonNegativeInteger('config.maxInputCharsPerWord', config.maxInputCharsPerWord);
  if (config.modelMaxLength !== undefined) assertPositiveInteger('config.modelMaxLength', config.modelMaxLength);
  return config;
}
