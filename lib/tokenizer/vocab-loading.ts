import path from 'node:path';

import type { AddedTokenSpec } from './added-tokens.js';
import { DEFAULT_TOKENIZER_CONFIG, type TokenizerConfig, resolveTokenizerConfig } from './config.js';
import { BertEmbedError } from '../errors.js';
import { probeModelFile, readModelJsonFile, readModelTextFile } from '../model/model-files.js';
import { assertString, expectationMessage, fieldError } from '../validation.js';

/** Everything a WordPieceTokenizer is built from, whatever files it came from. */
export interface TokenizerSpec {
  /** The WordPiece model's vocabulary (token → id). */
  vocab: Map<string, number>;
  /** Tokens matched whole in the raw text before normalization (the special tokens). */
  addedTokens: AddedTokenSpec[];
  config: TokenizerConfig;
}

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A model's tokenizer file is wrong: a coded error naming the file and what was expected. */
function tokenizerFileError(source: string, message: string): BertEmbedError {
  return new BertEmbedError(`${source}: ${message}`, 'ERR_MODEL_CONFIG');
}

/** Token ids travel to the native side as int32. */
const MAX_TOKEN_ID = 2 ** 31 - 1;

/** vocab.txt as Python's BertTokenizer reads it: one token a line, id = line number, a later duplicate wins. */
export function parseVocabTxt(text: string): Map<string, number> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  for (let id = 0; id < lines.length; id++) {
    const line = lines[id];
    vocab.set(line.endsWith('\r') ? line.slice(0, -1) : line, id);
  }
  return vocab;
}

/** The vocabulary of `fromVocab`: an array (index = id) or a token → id map. */
export function vocabFromInput(vocab: readonly string[] | ReadonlyMap<string, number>): Map<string, number> {
  if (Array.isArray(vocab)) {
    const map = new Map<string, number>();
    vocab.forEach((token, id) => {
      assertString(`vocab[${id}]`, token);
      map.set(token, id);
    });
    return map;
  }
  if (vocab instanceof Map) {
    for (const [token, id] of vocab) {
      assertString('a vocab key', token);
      if (!Number.isInteger(id) || id < 0) {
        throw fieldError(TypeError, `the vocab id of ${JSON.stringify(token)}`, 'non-negative integer', id);
      }
    }
    return new Map(vocab);
  }
  throw fieldError(TypeError, 'vocab', 'string[] or Map<string, number>', vocab);
}

/** A token setting of tokenizer_config.json: a string, or an AddedToken object with `content`. */
function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isJsonObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

/** HF writes a huge number (int(1e30)) when a model has no limit; only a usable length is kept. */
function modelMaxLengthOf(tokenizerConfig: JsonObject): number | undefined {
  const value = tokenizerConfig.model_max_length;
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The special tokens of a vocab.txt model, matched whole in raw text when the vocabulary has them. */
export function specialTokensOf(config: TokenizerConfig, vocab: ReadonlyMap<string, number>, extra: readonly string[] = []): AddedTokenSpec[] {
  const contents = [config.unkToken, config.sepToken, config.padToken, config.clsToken, config.maskToken, ...extra];
  const added: AddedTokenSpec[] = [];
  for (const content of new Set(contents)) {
    const id = vocab.get(content);
    if (id !== undefined) added.push({ content, id, lstrip: false, rstrip: false, special: true });
  }
  return added;
}

/**
 * tokenizer_config.json's settings. A field that is absent (or null) keeps BertTokenizer's default;
 * one of the wrong type is refused, naming it, rather than silently tokenizing another way.
 */
function configFromTokenizerConfigJson(tokenizerConfig: JsonObject, source: string): Partial<TokenizerConfig> {
  const partial: Partial<TokenizerConfig> = {};
  const present = (key: string): unknown => (tokenizerConfig[key] === null ? undefined : tokenizerConfig[key]);
  const invalid = (key: string, expected: string): never => {
    throw tokenizerFileError(source, expectationMessage(key, expected, tokenizerConfig[key]));
  };
  const flag = (key: string): boolean | undefined => {
    const value = present(key);
    if (value !== undefined && typeof value !== 'boolean') invalid(key, 'boolean');
    return value as boolean | undefined;
  };
  if (flag('do_basic_tokenize') === false) {
    throw tokenizerFileError(source, "do_basic_tokenize false is not supported (BERT's basic tokenization is always applied)");
  }
  const doLowerCase = flag('do_lower_case');
  if (doLowerCase !== undefined) partial.doLowerCase = doLowerCase;
  // null is a setting of its own here: accents follow do_lower_case.
  if (tokenizerConfig.strip_accents !== undefined) {
    if (typeof tokenizerConfig.strip_accents !== 'boolean' && tokenizerConfig.strip_accents !== null) invalid('strip_accents', 'boolean or null');
    partial.stripAccents = tokenizerConfig.strip_accents as boolean | null;
  }
  const tokenizeChineseChars = flag('tokenize_chinese_chars');
  if (tokenizeChineseChars !== undefined) partial.tokenizeChineseChars = tokenizeChineseChars;
  const names = { unkToken: 'unk_token', clsToken: 'cls_token', sepToken: 'sep_token', padToken: 'pad_token', maskToken: 'mask_token' } as const;
  for (const [setting, key] of Object.entries(names)) {
    if (present(key) === undefined) continue;
    const name = tokenName(present(key));
    if (name === undefined) invalid(key, 'a token: a string, or an object with a string "content"');
    (partial as Record<string, unknown>)[setting] = name;
  }
  const modelMaxLength = modelMaxLengthOf(tokenizerConfig);
  if (modelMaxLength !== undefined) partial.modelMaxLength = modelMaxLength;
  const cleanUp = flag('clean_up_tokenization_spaces');
  if (cleanUp !== undefined) partial.cleanUpTokenizationSpaces = cleanUp;
  return partial;
}

/** vocab.txt with an optional tokenizer_config.json; defaults are those of BertTokenizer (uncased). */
export function specFromVocabTxt(vocabText: string, tokenizerConfig: unknown, source: string, configSource = source): TokenizerSpec {
  const vocab = parseVocabTxt(vocabText);
  const settings = isJsonObject(tokenizerConfig) ? configFromTokenizerConfigJson(tokenizerConfig, configSource) : {};
  const config = resolveTokenizerConfig(settings);
  const extra = isJsonObject(tokenizerConfig) && Array.isArray(tokenizerConfig.additional_special_tokens)
    ? tokenizerConfig.additional_special_tokens.map(tokenName).filter((name): name is string => name !== undefined)
    : [];
  return { vocab, addedTokens: specialTokensOf(config, vocab, extra), config };
}

function fail(source: string, what: string): never {
  throw tokenizerFileError(source, `${what}; only BERT WordPiece tokenizers (BertNormalizer, BertPreTokenizer, WordPiece, BERT post-processing) are supported`);
}

interface TemplatePiece {
  kind: 'SpecialToken' | 'Sequence';
  id: string;
  typeId: number;
}

function templatePieces(pieces: unknown): TemplatePiece[] {
  if (!Array.isArray(pieces)) return [];
  return pieces.map((piece): TemplatePiece => {
    const kind = isJsonObject(piece) && isJsonObject(piece.SpecialToken) ? 'SpecialToken' : 'Sequence';
    const body = isJsonObject(piece) && isJsonObject(piece[kind]) ? (piece[kind] as JsonObject) : {};
    return { kind, id: String(body.id), typeId: Number(body.type_id) };
  });
}

function samePieces(actual: TemplatePiece[], expected: TemplatePiece[]): boolean {
  return (
    actual.length === expected.length &&
    actual.every((piece, i) => piece.kind === expected[i].kind && piece.id === expected[i].id && piece.typeId === expected[i].typeId)
  );
}

/** [CLS] and [SEP] from a BertProcessing, or from a TemplateProcessing in BERT's shape. */
function clsAndSepOf(postProcessor: unknown, source: string): { clsToken: string; sepToken: string } {
  if (!isJsonObject(postProcessor)) fail(source, 'post_processor is missing');
  if (postProcessor.type === 'BertProcessing') {
    const cls = postProcessor.cls;
    const sep = postProcessor.sep;
    if (!Array.isArray(cls) || !Array.isArray(sep) || typeof cls[0] !== 'string' || typeof sep[0] !== 'string') {
      fail(source, 'BertProcessing without cls/sep');
    }
    return { clsToken: cls[0], sepToken: sep[0] };
  }
  if (postProcessor.type !== 'TemplateProcessing') fail(source, `post_processor type ${String(postProcessor.type)}`);
  const single = templatePieces(postProcessor.single);
  const clsToken = single[0]?.id ?? '';
  const sepToken = single[2]?.id ?? '';
  const special = (id: string, typeId: number): TemplatePiece => ({ kind: 'SpecialToken', id, typeId });
  const sequence = (id: string, typeId: number): TemplatePiece => ({ kind: 'Sequence', id, typeId });
  const expectedSingle = [special(clsToken, 0), sequence('A', 0), special(sepToken, 0)];
  const expectedPair = [...expectedSingle, sequence('B', 1), special(sepToken, 1)];
  if (!samePieces(single, expectedSingle) || !samePieces(templatePieces(postProcessor.pair), expectedPair)) {
    fail(source, 'TemplateProcessing that is not "[CLS] A [SEP]" / "[CLS] A [SEP] B [SEP]" with type ids 0/1');
  }
  return { clsToken, sepToken };
}

/** tokenizer.json (HF tokenizers' format), with tokenizer_config.json for the names it does not hold. */
export function specFromTokenizerJson(tokenizerJson: unknown, tokenizerConfig: unknown, source: string, configSource = source): TokenizerSpec {
  if (!isJsonObject(tokenizerJson)) fail(source, 'not a JSON object');
  const model = tokenizerJson.model;
  if (!isJsonObject(model) || !isJsonObject(model.vocab)) fail(source, 'model.vocab is missing');
  // Old files leave out model.type; HF then recognises WordPiece by its fields.
  if (model.type !== undefined && model.type !== 'WordPiece') fail(source, `model type ${String(model.type)}`);
  const normalizer = tokenizerJson.normalizer;
  if (!isJsonObject(normalizer) || normalizer.type !== 'BertNormalizer') {
    fail(source, `normalizer ${isJsonObject(normalizer) ? String(normalizer.type) : String(normalizer)}`);
  }
  if (normalizer.clean_text === false) fail(source, 'BertNormalizer with clean_text false');
  const preTokenizer = tokenizerJson.pre_tokenizer;
  if (!isJsonObject(preTokenizer) || preTokenizer.type !== 'BertPreTokenizer') {
    fail(source, `pre_tokenizer ${isJsonObject(preTokenizer) ? String(preTokenizer.type) : String(preTokenizer)}`);
  }

  const isTokenId = (id: unknown): id is number => typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= MAX_TOKEN_ID;
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!isTokenId(id)) throw tokenizerFileError(source, expectationMessage(`model.vocab[${JSON.stringify(token)}]`, `integer from 0 to ${MAX_TOKEN_ID}`, id));
    vocab.set(token, id);
  }
  const maxInputChars = model.max_input_chars_per_word ?? DEFAULT_TOKENIZER_CONFIG.maxInputCharsPerWord;
  if (typeof maxInputChars !== 'number' || !Number.isSafeInteger(maxInputChars) || maxInputChars < 0) {
    throw tokenizerFileError(source, expectationMessage('model.max_input_chars_per_word', 'non-negative integer', maxInputChars));
  }
  for (const key of ['unk_token', 'continuing_subword_prefix'] as const) {
    if (model[key] !== undefined && model[key] !== null && typeof model[key] !== 'string') {
      throw tokenizerFileError(source, expectationMessage(`model.${key}`, 'string', model[key]));
    }
  }

  const addedTokens: AddedTokenSpec[] = [];
  for (const entry of Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : []) {
    if (!isJsonObject(entry) || typeof entry.content !== 'string' || !isTokenId(entry.id)) {
      throw tokenizerFileError(source, expectationMessage('an added_tokens entry', `object with a string content and an id from 0 to ${MAX_TOKEN_ID}`, entry));
    }
    if (entry.single_word === true) fail(source, `added token ${entry.content} with single_word`);
    // HF's default for `normalized` is the opposite of `special`.
    if (entry.normalized ?? (entry.special !== true)) fail(source, `added token ${entry.content} matched after normalization`);
    addedTokens.push({
      content: entry.content,
      id: entry.id,
      lstrip: entry.lstrip === true,
      rstrip: entry.rstrip === true,
      special: entry.special === true,
    });
  }

  const fromConfigFile = isJsonObject(tokenizerConfig) ? configFromTokenizerConfigJson(tokenizerConfig, configSource) : {};
  const padding = isJsonObject(tokenizerJson.padding) ? tokenizerJson.padding : {};
  // Only decode reads the decoder, so one of another kind is not refused here: decode always
  // decodes as BERT's WordPiece decoder, which every BERT tokenizer.json names.
  const decoder = isJsonObject(tokenizerJson.decoder) ? tokenizerJson.decoder : {};
  const config = resolveTokenizerConfig({
    doLowerCase: normalizer.lowercase !== false,
    stripAccents: typeof normalizer.strip_accents === 'boolean' ? normalizer.strip_accents : null,
    tokenizeChineseChars: normalizer.handle_chinese_chars !== false,
    unkToken: typeof model.unk_token === 'string' ? model.unk_token : DEFAULT_TOKENIZER_CONFIG.unkToken,
    ...clsAndSepOf(tokenizerJson.post_processor, source),
    padToken: typeof padding.pad_token === 'string' ? padding.pad_token : fromConfigFile.padToken,
    maskToken: fromConfigFile.maskToken,
    maxInputCharsPerWord: maxInputChars,
    continuingSubwordPrefix:
      typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : DEFAULT_TOKENIZER_CONFIG.continuingSubwordPrefix,
    modelMaxLength: fromConfigFile.modelMaxLength,
    decoderCleanup: decoder.type === 'WordPiece' && typeof decoder.cleanup === 'boolean' ? decoder.cleanup : undefined,
    cleanUpTokenizationSpaces: fromConfigFile.cleanUpTokenizationSpaces,
  });
  return { vocab, addedTokens, config };
}

/**
 * The special tokens a model's tokenizer files name must be in its vocabulary: [UNK], [CLS] and
 * [SEP] are refused when missing (a model error, naming the file). [PAD] is not needed: padded
 * positions are masked, so any id pads them; without one, the unknown token's id pads, as
 * transformers' pad_token_id then is.
 */
function withSpecialTokensChecked(spec: TokenizerSpec, source: string): TokenizerSpec {
  const known = (token: string) => spec.vocab.has(token) || spec.addedTokens.some((added) => added.content === token);
  const settings = { unkToken: 'unk_token', clsToken: 'cls_token', sepToken: 'sep_token' } as const;
  for (const [setting, key] of Object.entries(settings) as [keyof typeof settings, string][]) {
    const token = spec.config[setting];
    if (!known(token)) throw tokenizerFileError(source, `the vocabulary has no ${key} ${JSON.stringify(token)}; a BERT tokenizer needs it`);
  }
  if (known(spec.config.padToken)) return spec;
  return { ...spec, config: { ...spec.config, padToken: spec.config.unkToken } };
}

/** A spec read from a model's files: any argument-style error from the shared checks is the file's. */
function fromModelFiles(source: string, read: () => TokenizerSpec): TokenizerSpec {
  try {
    return withSpecialTokensChecked(read(), source);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw tokenizerFileError(source, error.message);
    throw error;
  }
}

/** Reads a model folder: tokenizer.json when present, else vocab.txt (each with tokenizer_config.json if there). */
export function loadTokenizerSpec(dir: string): TokenizerSpec {
  assertString('dir', dir);
  const tokenizerJsonPath = path.join(dir, 'tokenizer.json');
  const vocabTxtPath = path.join(dir, 'vocab.txt');
  const configPath = path.join(dir, 'tokenizer_config.json');
  const tokenizerConfig = probeModelFile(configPath) ? readModelJsonFile(configPath) : undefined;
  if (tokenizerConfig !== undefined && !isJsonObject(tokenizerConfig)) {
    throw tokenizerFileError(configPath, expectationMessage('the file', 'a JSON object', tokenizerConfig));
  }
  if (probeModelFile(tokenizerJsonPath)) {
    return fromModelFiles(tokenizerJsonPath, () => specFromTokenizerJson(readModelJsonFile(tokenizerJsonPath), tokenizerConfig, tokenizerJsonPath, configPath));
  }
  if (probeModelFile(vocabTxtPath)) {
    const addedTokensPath = path.join(dir, 'added_tokens.json');
    if (probeModelFile(addedTokensPath)) {
      const addedTokens = readModelJsonFile(addedTokensPath);
      if (isJsonObject(addedTokens) && Object.keys(addedTokens).length > 0) {
        throw tokenizerFileError(addedTokensPath, 'user-added tokens are not supported; save the tokenizer as tokenizer.json instead');
      }
    }
    return fromModelFiles(vocabTxtPath, () => specFromVocabTxt(readModelTextFile(vocabTxtPath), tokenizerConfig, vocabTxtPath, configPath));
  }
  throw new BertEmbedError(`Expected tokenizer.json or vocab.txt in ${dir} but found neither`, 'ERR_MODEL_NOT_FOUND');
}
