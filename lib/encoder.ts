/** Encoder: the public face of one model replica. Tokenizes in JS, encodes on a native worker thread. */
import fs from 'node:fs';
import path from 'node:path';
import { Embeddings } from './embeddings.js';
import { BertEmbedError, fromNativeError } from './errors.js';
import { readBertConfig, type BertModelConfig } from './model/bert-config.js';
import { locateModelFiles, type ModelFiles } from './model/model-files.js';
import { indexSafetensors } from './model/safetensors-index.js';
import { readModelDefaults } from './model/sentence-transformers.js';
import { nativeBinding, type NativeLoadSpec, type NativeModelHandle, type NativePoolingSpec } from './native/binding.js';
import {
  absoluteLayer,
  POOLING_OPTION_NAMES,
  resolveEncoderOptions,
  resolvePoolingOptions,
  type EncoderOptions,
  type PoolingOptions,
  type ResolvedEncoderOptions,
  type ResolvedPoolingOptions,
} from './options.js';
import { WordPieceTokenizer, type Encoding } from './tokenizer/index.js';
import { assertBoolean, checkPlainObject, expectationMessage, rejectUnknownOptions } from './validation.js';

/** Per-call options; the pooling ones override those given to Encoder.load for this call only. */
export interface EncodeOptions extends PoolingOptions {
  /** input is already split into tokens (string[][]); each is looked up in the vocabulary as it is */
  isTokenized?: boolean;
  /** return the tokens the model saw beside the vectors */
  showTokens?: boolean;
}

export interface TokenizedText {
  tokens: string[];
  ids: number[];
  typeIds: number[];
}

/** Files copied beside an exported model.pt so the directory loads on its own. */
const COMPANION_FILES = [
  'config.json',
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'sentence_bert_config.json',
  'modules.json',
  '1_Pooling/config.json',
];

function checkVocabulary(tokenizer: WordPieceTokenizer, config: BertModelConfig, files: ModelFiles): void {
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new BertEmbedError(
      `${files.dir}: the vocabulary has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}; ` +
        'ids past the embedding table would be out of range',
      'ERR_MODEL_CONFIG',
    );
  }
}

function loadSpecFor(files: ModelFiles, config: BertModelConfig, options: ResolvedEncoderOptions): NativeLoadSpec {
  const common = { path: files.weights.path, device: options.device, dtype: options.dtype, threads: options.threads, blasThreads: options.blasThreads };
  if (files.weights.format === 'torchscript') return { ...common, format: 'torchscript' };
  return { ...common, format: 'safetensors', config, tensors: indexSafetensors(files.weights.path, config) };
}

export class Encoder {
  /** the options in force, defaults filled in */
  readonly options: Readonly<ResolvedEncoderOptions>;
  /** the model's architecture numbers from config.json */
  readonly config: Readonly<BertModelConfig>;
  readonly tokenizer: WordPieceTokenizer;
  /** length of one output vector (of one token vector for NONE) */
  readonly dimension: number;
  readonly modelDir: string;
  readonly #native: NativeModelHandle;

  private constructor(files: ModelFiles, config: BertModelConfig, tokenizer: WordPieceTokenizer, options: ResolvedEncoderOptions, native: NativeModelHandle) {
    this.modelDir = files.dir;
    this.config = Object.freeze({ ...config });
    this.tokenizer = tokenizer;
    this.options = Object.freeze({ ...options, layers: Object.freeze([...options.layers]) as number[] });
    this.#native = native;
    this.dimension = this.#dimensionOf(options);
  }

  /**
   * Loads a BERT model: a Hugging Face checkpoint directory (config.json, vocab.txt, model.safetensors),
   * a directory exported by Encoder.export (model.pt), or a TorchScript file traced from Hugging Face
   * BertModel (beside its config.json and vocab.txt).
   */
  static async load(modelPath: string, options?: EncoderOptions): Promise<Encoder> {
    if (typeof modelPath !== 'string') throw new TypeError(expectationMessage('modelPath', 'string', modelPath));
    const files = locateModelFiles(modelPath);
    const config = readBertConfig(files.configJson);
    const resolved = resolveEncoderOptions(options, config, readModelDefaults(files));
    const tokenizer = WordPieceTokenizer.fromModelDir(files.dir);
    checkVocabulary(tokenizer, config, files);
    const spec = loadSpecFor(files, config, resolved);

    const native = new (nativeBinding().NativeModel)();
    try {
      await native.load(spec);
    } catch (error) {
      await native.close().catch(() => undefined);
      throw fromNativeError(error);
    }
    return new Encoder(files, config, tokenizer, resolved, native);
  }

  /**
   * Compiles a Hugging Face checkpoint into a TorchScript model.pt in outDir, with the config and
   * tokenizer files beside it, so that later loads skip compiling. Returns the path of model.pt.
   */
  static async export(hfDir: string, outDir: string): Promise<string> {
    if (typeof outDir !== 'string') throw new TypeError(expectationMessage('outDir', 'string', outDir));
    const encoder = await Encoder.load(hfDir, { device: 'cpu', dtype: 'float32' });
    try {
      if (path.resolve(outDir) === encoder.modelDir) {
        throw new RangeError(`Expected an outDir other than the model directory but received ${JSON.stringify(outDir)}`);
      }
      fs.mkdirSync(outDir, { recursive: true });
      const modelFile = path.join(path.resolve(outDir), 'model.pt');
      await encoder.#native.save(modelFile).catch((error: unknown) => {
        throw fromNativeError(error);
      });
      for (const name of COMPANION_FILES) {
        const source = path.join(encoder.modelDir, name);
        if (!fs.existsSync(source)) continue;
        fs.mkdirSync(path.dirname(path.join(outDir, name)), { recursive: true });
        fs.copyFileSync(source, path.join(outDir, name));
      }
      return modelFile;
    } finally {
      await encoder.close();
    }
  }

  /** Token ids exactly as the model sees them, with [CLS]/[SEP] and truncation to maxSeqLen. */
  tokenize(texts: string[]): TokenizedText[] {
    return this.#tokenizeAll(texts, false);
  }

  /** Encodes sentences (or `A ||| B` pairs) into vectors, off the event loop. */
  async encode(texts: string[] | string[][], options: EncodeOptions = {}): Promise<Embeddings> {
    const callOptions = checkPlainObject('options', options);
    rejectUnknownOptions('encode', callOptions, ['isTokenized', 'showTokens', ...POOLING_OPTION_NAMES]);
    const isTokenized = callOptions.isTokenized ?? false;
    assertBoolean('isTokenized', isTokenized);
    const showTokens = callOptions.showTokens ?? false;
    assertBoolean('showTokens', showTokens);
    const pooling = POOLING_OPTION_NAMES.some((name) => callOptions[name] !== undefined)
      ? resolvePoolingOptions(callOptions, this.config.numLayers, this.options)
      : this.options;

    const encodings = this.#tokenizeAll(texts, isTokenized);
    const dimension = this.#dimensionOf(pooling);
    const { maxSeqLen, maxBatchSize } = this.options;
    const shape = pooling.pooling === 'NONE' ? [encodings.length, maxSeqLen, dimension] : [encodings.length, dimension];
    const rowWidth = pooling.pooling === 'NONE' ? maxSeqLen * dimension : dimension;
    const tokens = showTokens ? encodings.map((e) => e.tokens) : undefined;
    const spec = this.#nativePooling(pooling);

    if (encodings.length <= maxBatchSize) {
      const data = encodings.length === 0 ? new Float32Array(0) : await this.#encodeBatch(encodings, spec);
      return new Embeddings(data, shape, tokens);
    }
    const data = new Float32Array(encodings.length * rowWidth);
    for (let start = 0; start < encodings.length; start += maxBatchSize) {
      data.set(await this.#encodeBatch(encodings.slice(start, start + maxBatchSize), spec), start * rowWidth);
    }
    return new Embeddings(data, shape, tokens);
  }

  /** Finishes queued work, frees the model and ends its worker thread. Later calls reject with ERR_CLOSED. */
  async close(): Promise<void> {
    await this.#native.close().catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'ERR_CLOSED') throw fromNativeError(error);
    });
  }

  #dimensionOf(pooling: ResolvedPoolingOptions): number {
    const perLayer = pooling.pooling === 'REDUCE_MEAN_MAX' ? 2 * this.config.hiddenSize : this.config.hiddenSize;
    return perLayer * pooling.layers.length;
  }

  #nativePooling(pooling: ResolvedPoolingOptions): NativePoolingSpec {
    return {
      strategy: pooling.pooling,
      layers: pooling.layers.map((layer) => absoluteLayer(layer, this.config.numLayers)),
      maskClsSep: pooling.maskClsSep,
      normalize: pooling.normalize,
      clsId: this.tokenizer.clsId,
      sepId: this.tokenizer.sepId,
      outputSeqLen: this.options.maxSeqLen,
    };
  }

  #tokenizeAll(texts: unknown, isTokenized: boolean): TokenizedText[] {
    if (!Array.isArray(texts)) {
      throw new TypeError(expectationMessage('texts', isTokenized ? 'array of token arrays' : 'array of strings', texts));
    }
    const maxLength = this.options.maxSeqLen;
    return texts.map((text: unknown, i): Encoding => {
      if (isTokenized) {
        if (!Array.isArray(text) || text.some((token) => typeof token !== 'string')) {
          throw new TypeError(expectationMessage(`texts[${i}]`, 'array of strings (isTokenized)', text));
        }
        return this.tokenizer.encodeTokenized(text as string[], undefined, { maxLength });
      }
      if (typeof text !== 'string') throw new TypeError(expectationMessage(`texts[${i}]`, 'string', text));
      return this.tokenizer.encode(text, undefined, { maxLength });
    });
  }

  async #encodeBatch(encodings: TokenizedText[], pooling: NativePoolingSpec): Promise<Float32Array> {
    const batchSize = encodings.length;
    const seqLen = Math.max(...encodings.map((e) => e.ids.length));
    const ids = new Int32Array(batchSize * seqLen).fill(this.tokenizer.padId);
    const typeIds = new Int32Array(batchSize * seqLen);
    const lengths = new Int32Array(batchSize);
    encodings.forEach((encoding, row) => {
      ids.set(encoding.ids, row * seqLen);
      typeIds.set(encoding.typeIds, row * seqLen);
      lengths[row] = encoding.ids.length;
    });
    try {
      const output = await this.#native.encode({ ids, typeIds, lengths, batchSize, seqLen, pooling });
      return output.data;
    } catch (error) {
      throw fromNativeError(error);
    }
  }
}
