/** Encoder: the public face of one model replica. Tokenizes in JS, encodes on a native worker thread. */
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Embeddings } from './embeddings.js';
import { inSourceOrder } from './in-source-order.js';
import { BertEmbedError, fromNativeError } from './errors.js';
import type { BertModelConfig } from './model/bert-config.js';
import { describeModel } from './model/model-description.js';
import { COMPANION_FILES, type ModelFiles } from './model/model-files.js';
import { indexSafetensors } from './model/safetensors-index.js';
import { nativeBinding, type NativeLoadSpec, type NativeModelHandle, type NativePoolingSpec } from './native/binding.js';
import {
  absoluteLayer,
  POOLING_OPTION_NAMES,
  replicaDevices,
  resolvePoolingOptions,
  type EncoderOptions,
  type PoolingOptions,
  type ResolvedEncoderOptions,
  type ResolvedPoolingOptions,
} from './options.js';
import { BatchScheduler, type Replica, type TokenizedSentence } from './pool/batch-scheduler.js';
import type { EncoderStatus } from './pool/encoder-status.js';
import { WordPieceTokenizer, type Encoding } from './tokenizer/index.js';
import { assertBoolean, checkPlainObject, expectationMessage, rejectUnknownOptions } from './validation.js';

/** Per-call options; the pooling ones override those given to Encoder.load for this call only. */
export interface EncodeOptions extends PoolingOptions {
  /** input is already split into tokens (string[][]); each is looked up in the vocabulary as it is */
  isTokenized?: boolean;
  /** return the tokens the model saw beside the vectors */
  showTokens?: boolean;
  /** cancels the call: its sentences still queued are dropped and the promise rejects */
  signal?: AbortSignal;
}

const ENCODE_OPTION_NAMES = ['isTokenized', 'showTokens', 'signal', ...POOLING_OPTION_NAMES];

/** Sentences the scheduler keeps tokenized and waiting: what the length sort chooses among. */
const TOKENIZE_WINDOW = 4096;

export interface TokenizedText {
  tokens: string[];
  ids: number[];
  typeIds: number[];
}


function loadSpecFor(files: ModelFiles, config: BertModelConfig, options: ResolvedEncoderOptions, device: string): NativeLoadSpec {
  const common = { path: files.weights.path, device, dtype: options.dtype, threads: options.threads, blasThreads: options.blasThreads };
  if (files.weights.format === 'torchscript') return { ...common, format: 'torchscript' };
  return { ...common, format: 'safetensors', config, tensors: indexSafetensors(files.weights.path, config) };
}

/** One model replica as the scheduler sees it: a native model on its own worker thread. */
interface NativeReplica extends Replica {
  readonly handle: NativeModelHandle;
}

function closedError(): BertEmbedError {
  return new BertEmbedError('the encoder is closed', 'ERR_CLOSED');
}

async function closeHandle(handle: NativeModelHandle): Promise<void> {
  await handle.close().catch((error: unknown) => {
    if ((error as { code?: string }).code !== 'ERR_CLOSED') throw fromNativeError(error);
  });
}

async function loadReplicas(files: ModelFiles, config: BertModelConfig, options: ResolvedEncoderOptions): Promise<NativeReplica[]> {
  const { NativeModel } = nativeBinding();
  const replicas = replicaDevices(options).map((device): NativeReplica => {
    const handle = new NativeModel();
    return { device, handle, encode: (batch) => handle.encode(batch) };
  });
  // Each replica compiles on its own worker thread, so they load side by side.
  const loads = await Promise.allSettled(replicas.map((r) => r.handle.load(loadSpecFor(files, config, options, r.device))));
  const failed = loads.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(replicas.map((r) => closeHandle(r.handle)));
    throw fromNativeError(failed.reason);
  }
  return replicas;
}

/** For tests and bench/: what lies behind an encoder (not part of the public API). */
export const encoderInternals = new WeakMap<Encoder, { scheduler: BatchScheduler; replicas: Replica[]; nativePooling: () => NativePoolingSpec }>();

export class Encoder {
  /** the options in force, defaults filled in */
  readonly options: Readonly<ResolvedEncoderOptions>;
  /** the model's architecture numbers from config.json */
  readonly config: Readonly<BertModelConfig>;
  readonly tokenizer: WordPieceTokenizer;
  /** length of one output vector (of one token vector for NONE) */
  readonly dimension: number;
  readonly modelDir: string;
  readonly #replicas: NativeReplica[];
  readonly #scheduler: BatchScheduler;
  readonly #startedAt = new Date();
  #closing: Promise<void> | undefined;

  private constructor(files: ModelFiles, config: BertModelConfig, tokenizer: WordPieceTokenizer, options: ResolvedEncoderOptions, replicas: NativeReplica[]) {
    this.modelDir = files.dir;
    this.config = Object.freeze({ ...config });
    this.tokenizer = tokenizer;
    this.options = Object.freeze({
      ...options,
      layers: Object.freeze([...options.layers]) as number[],
      devices: Object.freeze([...options.devices]) as string[],
    });
    this.#replicas = replicas;
    this.#scheduler = new BatchScheduler(
      replicas,
      {
        maxBatchSize: options.maxBatchSize,
        maxBatchTokens: options.maxBatchTokens,
        priorityBatchSize: options.priorityBatchSize,
        maxQueuedSentences: options.maxQueuedSentences,
        tokenizeWindow: Math.max(TOKENIZE_WINDOW, 4 * options.maxBatchSize * replicas.length),
      },
      tokenizer.padId,
    );
    encoderInternals.set(this, { scheduler: this.#scheduler, replicas, nativePooling: () => this.#nativePooling(this.options) });
    this.dimension = this.#dimensionOf(options);
  }

  /**
   * Loads a BERT model: a Hugging Face checkpoint directory (config.json, vocab.txt, model.safetensors),
   * a directory exported by Encoder.export (model.pt), or a TorchScript file traced from Hugging Face
   * BertModel (beside its config.json and vocab.txt). `workers` replicas are placed round-robin
   * over `devices`, each served by its own native thread.
   */
  static async load(modelPath: string, options?: EncoderOptions): Promise<Encoder> {
    const { files, config, options: resolved, tokenizer } = describeModel(modelPath, options);
    return new Encoder(files, config, tokenizer, resolved, await loadReplicas(files, config, resolved));
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
      await encoder.#replicas[0].handle.save(modelFile).catch((error: unknown) => {
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
    checkTexts(texts, false);
    return texts.map((text) => this.#tokenizeOne(text, false));
  }

  /**
   * Encodes sentences (or `A ||| B` pairs) into vectors, off the event loop. Any number of
   * sentences: the scheduler batches them with other calls' by length, and the promise resolves
   * with this call's vectors in input order.
   */
  async encode(texts: string[] | string[][], options: EncodeOptions = {}): Promise<Embeddings> {
    const callOptions = checkPlainObject('options', options);
    rejectUnknownOptions('encode', callOptions, ENCODE_OPTION_NAMES);
    const isTokenized = callOptions.isTokenized ?? false;
    assertBoolean('isTokenized', isTokenized);
    const showTokens = callOptions.showTokens ?? false;
    assertBoolean('showTokens', showTokens);
    const signal = callOptions.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(expectationMessage('signal', 'AbortSignal', signal));
    const pooling = POOLING_OPTION_NAMES.some((name) => callOptions[name] !== undefined)
      ? resolvePoolingOptions(callOptions, this.config.numLayers, this.options)
      : this.options;
    checkTexts(texts, isTokenized);
    if (this.#closing) throw closedError();

    // A copy: large calls are tokenized a chunk at a time, after this function has returned.
    const inputs: (string | string[])[] = [...texts];
    const dimension = this.#dimensionOf(pooling);
    const { maxSeqLen } = this.options;
    const shape = pooling.pooling === 'NONE' ? [inputs.length, maxSeqLen, dimension] : [inputs.length, dimension];
    const tokens: string[][] | undefined = showTokens ? new Array<string[]>(inputs.length) : undefined;
    const data = await this.#scheduler.submit({
      count: inputs.length,
      tokenize: (start, end): TokenizedSentence[] => {
        const sentences: TokenizedSentence[] = [];
        for (let row = start; row < end; row++) {
          const encoding = this.#tokenizeOne(inputs[row], isTokenized);
          if (tokens) tokens[row] = encoding.tokens;
          sentences.push(encoding);
        }
        return sentences;
      },
      pooling: this.#nativePooling(pooling),
      rowWidth: pooling.pooling === 'NONE' ? maxSeqLen * dimension : dimension,
      signal: signal as AbortSignal | undefined,
    });
    return new Embeddings(data, shape, tokens);
  }

  /**
   * Encodes a stream of sentence lists (bert-as-service's encode_async): yields one Embeddings per
   * list, in input order, while later lists are already being encoded. Reading from `source`
   * pauses while a window of sentences is in flight. Stopping the loop early cancels what is queued.
   */
  async *encodeStream(source: AsyncIterable<string[]> | Iterable<string[]>, options: EncodeOptions = {}): AsyncGenerator<Embeddings, void, undefined> {
    const callOptions = checkPlainObject('options', options);
    const isIterable = (value: unknown): boolean =>
      value != null && (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function');
    if (!isIterable(source)) throw new TypeError(expectationMessage('source', 'async iterable of string arrays', source));
    const stop = new AbortController();
    const signal = callOptions.signal instanceof AbortSignal ? AbortSignal.any([stop.signal, callOptions.signal]) : stop.signal;
    setMaxListeners(0, signal); // one listener per call in flight, each removed when its call settles
    try {
      yield* inSourceOrder(
        source,
        (texts) => this.encode(texts, { ...callOptions, signal } as EncodeOptions),
        (texts) => (Array.isArray(texts) ? texts.length : 0),
        TOKENIZE_WINDOW,
      );
    } finally {
      stop.abort();
    }
  }

  /** Configuration and counters of the encoder and its workers, like bert-as-service's server_status. */
  status(): EncoderStatus {
    const now = Date.now();
    return {
      modelDir: this.modelDir,
      options: this.options,
      devices: this.#replicas.map((r) => r.device),
      startedAt: this.#startedAt.toISOString(),
      uptimeMs: now - this.#startedAt.getTime(),
      ...this.#scheduler.statistics.snapshot(),
      queuedSentences: this.#scheduler.queuedSentences,
      outstandingSentences: this.#scheduler.outstandingSentences,
      busyWorkers: this.#scheduler.busyReplicas,
      closed: this.#closing !== undefined,
      torchVersion: nativeBinding().torchVersion,
    };
  }

  /**
   * Finishes every call already made, then frees the models and ends their worker threads.
   * Later calls reject with ERR_CLOSED.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#scheduler.whenIdle();
      await Promise.all(this.#replicas.map((r) => closeHandle(r.handle)));
    })();
    return this.#closing;
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

  #tokenizeOne(text: string | string[], isTokenized: boolean): Encoding {
    const maxLength = this.options.maxSeqLen;
    if (isTokenized) return this.tokenizer.encodeTokenized(text as string[], undefined, { maxLength });
    return this.tokenizer.encode(text as string, undefined, { maxLength });
  }
}

/** Checks every input's type up front, so that a call fails whole before any of it is queued. */
function checkTexts(texts: unknown, isTokenized: boolean): void {
  if (!Array.isArray(texts)) {
    throw new TypeError(expectationMessage('texts', isTokenized ? 'array of token arrays' : 'array of strings', texts));
  }
  for (let i = 0; i < texts.length; i++) {
    const text: unknown = texts[i];
    if (isTokenized) {
      if (!Array.isArray(text) || text.some((token) => typeof token !== 'string')) {
        throw new TypeError(expectationMessage(`texts[${i}]`, 'array of strings (isTokenized)', text));
      }
    } else if (typeof text !== 'string') {
      throw new TypeError(expectationMessage(`texts[${i}]`, 'string', text));
    }
  }
}
