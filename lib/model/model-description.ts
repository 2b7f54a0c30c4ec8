/**
 * Everything about a model that can be known without loading its weights: its files, config.json,
 * the options in force (defaults filled in) and its tokenizer. Encoder.load starts here; so do the
 * CLI's tokenize and info.
 */
import { BertEmbedError } from '../errors.js';
import { nativeBinding } from '../native/binding.js';
import { resolveEncoderOptions, resolveModelFileOptions, type CpuKernels, type EncoderOptions, type ResolvedEncoderOptions } from '../options.js';
import { WordPieceTokenizer } from '../tokenizer/index.js';
import { checkPlainObject, fieldError } from '../validation.js';
import { readBertConfig, type BertModelConfig } from './bert-config.js';
import { locateModelFiles, type ModelFiles } from './model-files.js';
import { readModelDefaults } from './sentence-transformers.js';

export interface ModelDescription {
  files: ModelFiles;
  config: BertModelConfig;
  options: ResolvedEncoderOptions;
  tokenizer: WordPieceTokenizer;
}

/** What the addon does on the CPU; without a loadable addon (tokenizing only), the plain path. */
function cpuKernels(): CpuKernels {
  try {
    const binding = nativeBinding();
    return { oneDnnLinear: binding.oneDnnLinear, oneDnnBf16Linear: binding.oneDnnBf16Linear };
  } catch {
    return { oneDnnLinear: false, oneDnnBf16Linear: false };
  }
}

/**
 * Runs one reading of the model's files. The readers check what they read and throw coded errors;
 * should anything else escape them, it is still the model's files that could not be read (exit 1
 * in the CLI), never an argument mistake: a TypeError or RangeError from here would read as one.
 */
function readingModelFiles<T>(dir: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof BertEmbedError) throw error;
    throw new BertEmbedError(`${dir}: the model files cannot be read (${(error as Error)?.message ?? String(error)})`, 'ERR_MODEL_CONFIG', { cause: error });
  }
}

export function describeModel(modelPath: unknown, options?: EncoderOptions): ModelDescription {
  if (typeof modelPath !== 'string') throw fieldError(TypeError, 'modelPath', 'string', modelPath);
  // Which files to read (a TensorFlow checkpoint's name, a fine-tuned copy's directory) comes first.
  const fileOptions = resolveModelFileOptions(checkPlainObject('options', options ?? {}));
  const files = readingModelFiles(modelPath, () => locateModelFiles(modelPath, fileOptions));
  const config = readingModelFiles(files.dir, () => readBertConfig(files.configJson, files.configFormat));
  const defaults = readingModelFiles(files.dir, () => readModelDefaults(files));
  if (defaults.unsupportedPooling && (options as { pooling?: unknown } | undefined)?.pooling === undefined) {
    throw new BertEmbedError(`${defaults.unsupportedPooling}; pass the pooling option to load it with another`, 'ERR_MODEL_CONFIG');
  }
  // The caller's options, checked against the model: their errors are the caller's.
  const resolved = resolveEncoderOptions(options, config, defaults, cpuKernels());
  // bert-as-service's -cased_tokenization: neither lower-case nor strip accents, whatever the files say.
  const casing = resolved.casedTokenization ? { doLowerCase: false, stripAccents: false } : undefined;
  const tokenizer = readingModelFiles(files.dir, () => WordPieceTokenizer.fromModelDir(files.dir, casing));
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new BertEmbedError(
      `${files.dir}: the vocabulary has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}; ` +
        'ids past the embedding table would be out of range',
      'ERR_MODEL_CONFIG',
    );
  }
  return { files, config, options: resolved, tokenizer };
}
