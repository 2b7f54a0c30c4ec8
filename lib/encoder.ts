/** Encoder: the public face of one model replica. Tokenizes in JS, encodes on a native worker thread. */
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Embeddings } from './embeddings.js';
import { inSourceOrder } from './in-source-order.js';
import { BertEmbedError, fromNativeError } from './errors.js';
import type { BertModelConfig } from './model/bert-config.js';
import { describeModel } from './model/model-description.js';
import { COMPANION_FILES, type ModelFiles, type WeightsFormat } from './model/model-files.js';
import { holdsClassifierHead, indexModelTensors } from './model/model-tensors.js';
import { exportTfCheckpointAsHuggingFace, writeCompanionFiles } from './model/tf-checkpoint/hf-export.js';
import { type FillMaskCandidate, fillMaskResult, fillMaskRow, maskPositions } from './heads/fill-mask.js';
import { SCORE_METRICS, type ScoreMetric, type SentenceScore, SentenceScoring } from './heads/masked-lm-scoring.js';
import { sparseFromDense, type SparseVector } from './heads/sparse-vector.js';
import { type ClassifierConfig, classifierSettings, namesSequenceClassification } from './heads/classifier-config.js';
import { checkClassifyInputs, checkQueryAndDocuments, type ClassifyInput, encodePair, type PairEncoding } from './heads/pair-inputs.js';
import { applyCrossEncoderActivation, labelScores, pipelineFunctionFor, type LabelScore, type RerankResult } from './heads/sequence-classification.js';
import { maskedLmSlotWidth, nativeBinding, type NativeHeadSpec, type NativeLoadSpec, type NativeModelHandle, type NativeTensorLocation } from './native/binding.js';
import {
  absoluteLayer,
  POOLING_OPTION_NAMES,
  replicaDevices,
  resolvePoolingOptions,
  truncationLength,
  type EncoderOptions,
  type PoolingOptions,
  type ResolvedEncoderOptions,
  type ResolvedPoolingOptions,
} from './options.js';
import { BatchScheduler, type Replica, type ScheduledEncode, type TokenizedSentence } from './pool/batch-scheduler.js';
import type { EncoderStatus } from './pool/encoder-status.js';
import { WordPieceTokenizer, type Encoding, type EncodingWithOffsets } from './tokenizer/index.js';
import { assertBoolean, checkInteger, checkOneOf, checkPlainObject, expectationMessage, rejectUnknownOptions } from './validation.js';

/** Per-call options; the pooling ones override those given to Encoder.load for this call only. */
export interface EncodeOptions extends PoolingOptions {
  /** input is already split into tokens (string[][]); each is looked up in the vocabulary as it is */
  isTokenized?: boolean;
  /** return the tokens the model saw beside the vectors */
  showTokens?: boolean;
  /**
   * read a text 'A ||| B' as the sentence pair (A, B), bert-as-service's convention (default true);
   * false encodes every text as written, for APIs without pairs. Not used with isTokenized.
   */
  splitPairs?: boolean;
  /** cancels the call: its sentences still queued are dropped and the promise rejects */
  signal?: AbortSignal;
}

/** The options every text-taking call shares. */
const COMMON_CALL_OPTION_NAMES = ['isTokenized', 'splitPairs', 'signal'];

const ENCODE_OPTION_NAMES = ['showTokens', ...COMMON_CALL_OPTION_NAMES, ...POOLING_OPTION_NAMES];

/** Options of score(): masked-LM pseudo-log-likelihood of each sentence. */
export interface ScoreOptions {
  /** which tokens each masked copy hides; default 'within_word_l2r' */
  metric?: ScoreMetric;
  isTokenized?: boolean;
  /** read 'A ||| B' as a sentence pair (default true); false takes the text as written */
  splitPairs?: boolean;
  signal?: AbortSignal;
}

/** Options of fillMask(). */
export interface FillMaskOptions {
  /** candidates per [MASK], from 1 to the vocabulary size; default 5 */
  topK?: number;
  isTokenized?: boolean;
  /** read 'A ||| B' as a sentence pair (default true); false takes the text as written */
  splitPairs?: boolean;
  signal?: AbortSignal;
}

/** Options of encodeSparse(). */
export interface SparseEncodeOptions {
  isTokenized?: boolean;
  /** read 'A ||| B' as a sentence pair (default true); false takes the text as written */
  splitPairs?: boolean;
  signal?: AbortSignal;
}

/** One row for maskedLmLogProbs(): token ids as the model sees them, [MASK] ids already in place. */
export interface MaskedLmRow {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
  /** positions to score; -1 for an unused slot */
  positions: ArrayLike<number>;
  /** the id whose log-probability is wanted at each position */
  targets: ArrayLike<number>;
}

/** What a loaded model can answer: pooled vectors always; maskedLm and sparse with BertForMaskedLM's head, classification with BertForSequenceClassification's. */
export type HeadName = 'pooled' | 'maskedLm' | 'sparse' | 'classification';

/** Options of rerank(). */
export interface RerankOptions {
  /** keep the best topK documents (default: all) */
  topK?: number;
  /** give each result its document (default false) */
  returnDocuments?: boolean;
  /** the classifier's logit instead of CrossEncoder's activation of it (default false) */
  rawScores?: boolean;
  /** cut query–document pairs longer than maxSeqLen, as CrossEncoder.predict does (default true); false refuses them */
  truncate?: boolean;
  signal?: AbortSignal;
}

/** Options of classify(). */
export interface ClassifyOptions {
  /** labels per input, best first (default: all) */
  topK?: number;
  /** logits instead of the pipeline's softmax / sigmoid (default false) */
  rawScores?: boolean;
  /** cut inputs longer than maxSeqLen (default true); false refuses them */
  truncate?: boolean;
  signal?: AbortSignal;
}

/** One input's labels, best first, and whether maxSeqLen cut it. */
export interface ClassifyResult {
  labels: LabelScore[];
  truncated: boolean;
}

/** Sentences the scheduler keeps tokenized and waiting: what the length sort chooses among. */
const TOKENIZE_WINDOW = 4096;

export interface TokenizedText {
  tokens: string[];
  ids: number[];
  typeIds: number[];
  /** [start, end) UTF-16 offsets of each token into the text ([0, 0] for [CLS]/[SEP]; for 'A ||| B' into the whole string) */
  offsets: [number, number][];
}


/** One replica's load; `tensors` (indexModelTensors) is undefined for TorchScript. */
function loadSpecFor(files: ModelFiles, config: BertModelConfig, options: ResolvedEncoderOptions, device: string, tensors: NativeTensorLocation[] | undefined): NativeLoadSpec {
  const common = {
    path: files.weights.path,
    device,
    dtype: options.dtype,
    threads: options.threads,
    blasThreads: options.blasThreads,
    gpuMemoryFraction: options.gpuMemoryFraction ?? 0,
  };
  const { format } = files.weights;
  if (format === 'torchscript' || !tensors) return { ...common, format: 'torchscript' };
  return { ...common, format, config, tensors };
}

/** What Encoder.export writes: a Hugging Face directory (from a TensorFlow checkpoint), or a TorchScript model.pt. */
export type ExportTarget = 'hf' | 'torchscript';

/** Options of Encoder.export: the target, and the load options that choose and read the model's files. */
export interface ExportOptions extends Pick<EncoderOptions, 'tunedModelDir' | 'ckptName' | 'configName' | 'casedTokenization'> {
  /** default 'hf' for a TensorFlow checkpoint, 'torchscript' for a Hugging Face one */
  to?: ExportTarget;
}

const EXPORT_LOAD_OPTION_NAMES = ['tunedModelDir', 'ckptName', 'configName', 'casedTokenization'] as const;

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

async function loadReplicas(
  files: ModelFiles,
  config: BertModelConfig,
  options: ResolvedEncoderOptions,
): Promise<{ replicas: NativeReplica[]; heads: HeadName[]; classifier?: ClassifierConfig; classifierError?: BertEmbedError }> {
  const { classifier, error: classifierError } = classifierSettings(files.configJson, files.configFormat);
  // Indexed once (a header, or a checkpoint's index, read and checked), whatever the number of replicas.
  const tensors = indexModelTensors(files, config, classifier?.labels.length);
  const { NativeModel } = nativeBinding();
  const replicas = replicaDevices(options).map((device): NativeReplica => {
    const handle = new NativeModel();
    return { device, handle, encode: (batch) => handle.encode(batch) };
  });
  // Each replica compiles on its own worker thread, so they load side by side.
  const loads = await Promise.allSettled(replicas.map((r) => r.handle.load(loadSpecFor(files, config, options, r.device, tensors))));
  const failed = loads.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(replicas.map((r) => closeHandle(r.handle)));
    throw fromNativeError(failed.reason);
  }
  const maskedLmHead = loads.every((result) => result.status === 'fulfilled' && result.value.maskedLmHead);
  const heads: HeadName[] = maskedLmHead ? ['pooled', 'maskedLm', 'sparse'] : ['pooled'];
  // The index selected classifier.* when the file has it; an exported model.pt says so through config.json.
  const classifierLoaded = tensors ? holdsClassifierHead(tensors) : namesSequenceClassification(files.configJson);
  if (classifier && classifierLoaded) heads.push('classification');
  return { replicas, heads, classifier: classifierLoaded ? classifier : undefined, classifierError };
}

/** The common options of every call: known names only, isTokenized, splitPairs and signal checked. */
function readCallOptions(
  method: string,
  options: unknown,
  known: readonly string[],
): { callOptions: Record<string, unknown>; isTokenized: boolean; splitPairs: boolean; signal: AbortSignal | undefined } {
  const callOptions = checkPlainObject('options', options);
  rejectUnknownOptions(method, callOptions, known);
  const isTokenized = callOptions.isTokenized ?? false;
  assertBoolean('isTokenized', isTokenized);
  const splitPairs = callOptions.splitPairs ?? true;
  assertBoolean('splitPairs', splitPairs);
  const signal = callOptions.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(expectationMessage('signal', 'AbortSignal', signal));
  return { callOptions, isTokenized, splitPairs, signal };
}

/** For tests and bench/: what lies behind an encoder (not part of the public API). */
export const encoderInternals = new WeakMap<Encoder, { scheduler: BatchScheduler; replicas: Replica[]; nativeHead: () => NativeHeadSpec }>();

export class Encoder {
  /** the options in force, defaults filled in */
  readonly options: Readonly<ResolvedEncoderOptions>;
  /** the model's architecture numbers from config.json */
  readonly config: Readonly<BertModelConfig>;
  readonly tokenizer: WordPieceTokenizer;
  /** length of one output vector (of one token vector for NONE) */
  readonly dimension: number;
  /** tokens a sentence keeps, special tokens included: maxSeqLen, or max_position_embeddings when maxSeqLen is null */
  readonly maxTokens: number;
  readonly modelDir: string;
  /** the files the weights and the architecture were read from (a TensorFlow checkpoint: its prefix, e.g. …/bert_model.ckpt) */
  readonly modelFiles: Readonly<{ format: WeightsFormat; weights: string; config: string }>;
  /** what this model answers: 'pooled' (encode), and 'maskedLm' and 'sparse' when it has BertForMaskedLM's head */
  readonly heads: readonly HeadName[];
  readonly #replicas: NativeReplica[];
  readonly #scheduler: BatchScheduler;
  readonly #classifier: ClassifierConfig | undefined;
  /** config.json's classification fields are invalid: what rerank and classify answer */
  readonly #classifierError: BertEmbedError | undefined;
  readonly #startedAt = new Date();
  #closing: Promise<void> | undefined;

  private constructor(
    files: ModelFiles,
    config: BertModelConfig,
    tokenizer: WordPieceTokenizer,
    options: ResolvedEncoderOptions,
    { replicas, heads, classifier, classifierError }: { replicas: NativeReplica[]; heads: HeadName[]; classifier?: ClassifierConfig; classifierError?: BertEmbedError },
  ) {
    this.modelDir = files.dir;
    this.modelFiles = Object.freeze({ format: files.weights.format, weights: files.weights.checkpointPrefix ?? files.weights.path, config: files.configJson });
    this.#classifier = classifier;
    this.#classifierError = classifierError;
    this.heads = Object.freeze(heads);
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
    encoderInternals.set(this, { scheduler: this.#scheduler, replicas, nativeHead: () => this.#pooledHead(this.options) });
    this.dimension = this.#dimensionOf(options);
    this.maxTokens = truncationLength(options, config.maxPositions);
  }

  /**
   * Loads a BERT model: a Hugging Face checkpoint directory (config.json, vocab.txt, model.safetensors),
   * a directory exported by Encoder.export (model.pt), a TorchScript file traced from Hugging Face
   * BertModel (beside its config.json and vocab.txt), or bert-as-service's model_dir: Google's
   * bert_config.json, vocab.txt and a TensorFlow checkpoint (bert_model.ckpt.*; tunedModelDir,
   * ckptName and configName choose other files as bert-as-service does). `workers` replicas are placed round-robin
   * over `devices`, each served by its own native thread.
   */
  static async load(modelPath: string, options?: EncoderOptions): Promise<Encoder> {
    const { files, config, options: resolved, tokenizer } = describeModel(modelPath, options);
    return new Encoder(files, config, tokenizer, resolved, await loadReplicas(files, config, resolved));
  }

  /**
   * Exports a model into outDir and returns the path of the weights written. `to: 'hf'` (the default
   * for a TensorFlow checkpoint, bert-as-service's model_dir) writes a Hugging Face directory:
   * config.json, model.safetensors, vocab.txt, tokenizer_config.json. `to: 'torchscript'` (the
   * default for a Hugging Face checkpoint) compiles the model into model.pt with its config and
   * tokenizer files beside it, so that later loads skip compiling.
   */
  static async export(modelDir: string, outDir: string, options: ExportOptions = {}): Promise<string> {
    if (typeof outDir !== 'string') throw new TypeError(expectationMessage('outDir', 'string', outDir));
    const given = checkPlainObject('options', options);
    rejectUnknownOptions('Encoder.export', given, ['to', ...EXPORT_LOAD_OPTION_NAMES]);
    const loadOptions: EncoderOptions = {};
    for (const name of EXPORT_LOAD_OPTION_NAMES) if (given[name] !== undefined) (loadOptions as Record<string, unknown>)[name] = given[name];
    const description = describeModel(modelDir, loadOptions);
    const fromTensorFlow = description.files.weights.format === 'tf-checkpoint';
    const to = checkOneOf('to', given.to ?? (fromTensorFlow ? 'hf' : 'torchscript'), ['hf', 'torchscript'] as const);
    if (path.resolve(outDir) === description.files.dir) {
      throw new RangeError(`Expected an outDir other than the model directory but received ${JSON.stringify(outDir)}`);
    }
    if (to === 'hf') {
      if (!fromTensorFlow) {
        throw new RangeError(`${expectationMessage('to', "'torchscript'", to)}: ${description.files.dir} is already in Hugging Face's (or an exported) layout`);
      }
      return exportTfCheckpointAsHuggingFace(description, outDir);
    }
    const encoder = await Encoder.load(modelDir, { ...loadOptions, device: 'cpu', dtype: 'float32' });
    try {
      fs.mkdirSync(outDir, { recursive: true });
      const modelFile = path.join(path.resolve(outDir), 'model.pt');
      await encoder.#replicas[0].handle.save(modelFile).catch((error: unknown) => {
        throw fromNativeError(error);
      });
      if (fromTensorFlow) {
        writeCompanionFiles(description, outDir, encoder.heads.includes('maskedLm'));
        return modelFile;
      }
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
    return texts.map((text) => {
      const { tokens, ids, typeIds, offsets } = this.#tokenizeWithOffsets(text, false);
      return { tokens, ids, typeIds, offsets };
    });
  }

  /**
   * Encodes sentences (or `A ||| B` pairs, unless `splitPairs: false`) into vectors, off the event loop. Any number of
   * sentences: the scheduler batches them with other calls' by length, and the promise resolves
   * with this call's vectors in input order.
   */
  async encode(texts: string[] | string[][], options: EncodeOptions = {}): Promise<Embeddings> {
    const { callOptions, isTokenized, splitPairs, signal } = readCallOptions('encode', options, ENCODE_OPTION_NAMES);
    const showTokens = callOptions.showTokens ?? false;
    assertBoolean('showTokens', showTokens);
    const pooling = POOLING_OPTION_NAMES.some((name) => callOptions[name] !== undefined)
      ? resolvePoolingOptions(callOptions, this.config.numLayers, this.options)
      : this.options;
    checkTexts(texts, isTokenized);
    this.#checkEveryTextHasTokens(texts, isTokenized, splitPairs);
    if (this.#closing) throw closedError();

    // A copy: large calls are tokenized a chunk at a time, after this function has returned.
    const inputs: (string | string[])[] = [...texts];
    const dimension = this.#dimensionOf(pooling);
    const tokenRows = pooling.pooling === 'NONE' ? this.maxTokens : 1;
    const tokens: string[][] | undefined = showTokens ? new Array<string[]>(inputs.length) : undefined;
    let longest = 0;
    const data = await this.#scheduler.submit({
      count: inputs.length,
      tokenize: (start, end): TokenizedSentence[] => {
        const sentences: TokenizedSentence[] = [];
        for (let row = start; row < end; row++) {
          const encoding = this.#tokenizeOne(inputs[row], isTokenized, splitPairs);
          if (tokens) tokens[row] = encoding.tokens;
          longest = Math.max(longest, encoding.ids.length);
          sentences.push(encoding);
        }
        return sentences;
      },
      head: this.#pooledHead(pooling),
      rowWidth: tokenRows * dimension,
      signal,
    });
    if (pooling.pooling !== 'NONE') return new Embeddings(data, [inputs.length, dimension], tokens);
    // maxSeqLen null (bert-as-service's NONE): token vectors as long as this call's longest sentence,
    // unless fixedEmbedLength keeps every call at the model's maximum.
    const { maxSeqLen, fixedEmbedLength } = this.options;
    const kept = maxSeqLen === null && !fixedEmbedLength ? longest : tokenRows;
    return new Embeddings(kept === tokenRows ? data : keepLeadingTokenRows(data, inputs.length, tokenRows, kept, dimension), [inputs.length, kept, dimension], tokens);
  }

  /**
   * Scores each sentence with the masked-LM head: every token's log-probability given the rest
   * (pseudo-log-likelihood), gathered into words. Each masked copy of a sentence is one row in the
   * scheduler, batched by length with every other call's rows.
   */
  async score(texts: string[] | string[][], options: ScoreOptions = {}): Promise<SentenceScore[]> {
    const { callOptions, isTokenized, splitPairs, signal } = readCallOptions('score', options, ['metric', ...COMMON_CALL_OPTION_NAMES]);
    const metric = checkOneOf('metric', callOptions.metric ?? 'within_word_l2r', SCORE_METRICS);
    checkTexts(texts, isTokenized);
    this.#requireMaskedLmHead('score');
    this.#checkEveryTextHasTokens(texts, isTokenized, splitPairs);
    const sentences = [...texts].map(
      (text) => new SentenceScoring(text, this.#tokenizeWithOffsets(text, isTokenized, splitPairs), this.#isTruncated(text, isTokenized, splitPairs), metric),
    );
    const slots = Math.max(1, ...sentences.map((sentence) => sentence.slotsNeeded));
    const slotWidth = maskedLmSlotWidth(0);
    // Row r of the call is copy copyOf[r] of sentence ownerOf[r].
    const firstRow = [0];
    for (const sentence of sentences) firstRow.push(firstRow[firstRow.length - 1] + sentence.copyCount);
    const ownerOf = new Int32Array(firstRow[sentences.length]);
    sentences.forEach((sentence, i) => ownerOf.fill(i, firstRow[i], firstRow[i + 1]));
    const maskId = this.#maskId();
    const answers = await this.#submitHead({
      count: ownerOf.length,
      tokenize: (start, end) => {
        const rows = [];
        for (let row = start; row < end; row++) rows.push(sentences[ownerOf[row]].copy(row - firstRow[ownerOf[row]], maskId, slots));
        return rows;
      },
      head: { kind: 'maskedLm', slots, topK: 0 },
      rowWidth: slots * slotWidth,
      rowLabel: (row) => `texts[${ownerOf[row]}]`,
      signal,
    });
    return sentences.map((sentence, i) => sentence.result(answers, firstRow[i] * slots * slotWidth, slots, slotWidth));
  }

  /**
   * The masked-LM head's `topK` most likely tokens at every [MASK] of each text: one list per
   * [MASK], as transformers.js's fill-mask pipeline gives for one.
   */
  async fillMask(texts: string[] | string[][], options: FillMaskOptions = {}): Promise<FillMaskCandidate[][][]> {
    const { callOptions, isTokenized, splitPairs, signal } = readCallOptions('fillMask', options, ['topK', ...COMMON_CALL_OPTION_NAMES]);
    const topK = checkInteger('topK', callOptions.topK ?? 5, 1, this.config.vocabSize);
    checkTexts(texts, isTokenized);
    this.#requireMaskedLmHead('fillMask');
    const maskId = this.#maskId();
    const encodings = [...texts].map((text) => this.#tokenizeOne(text, isTokenized, splitPairs));
    const masks = encodings.map((encoding, i) => {
      const positions = maskPositions(encoding, maskId);
      if (positions.length === 0) {
        const mask = this.tokenizer.config.maskToken;
        throw new RangeError(expectationMessage(`texts[${i}]`, `a text with ${mask} within its first maxSeqLen (${this.maxTokens}) tokens`, texts[i]));
      }
      return positions;
    });
    const slots = Math.max(...masks.map((positions) => positions.length), 1);
    const slotWidth = maskedLmSlotWidth(topK);
    const answers = await this.#submitHead({
      count: encodings.length,
      tokenize: (start, end) => encodings.slice(start, end).map((encoding, i) => fillMaskRow(encoding, masks[start + i], slots)),
      head: { kind: 'maskedLm', slots, topK },
      rowWidth: slots * slotWidth,
      signal,
    });
    return encodings.map((encoding, i) => fillMaskResult(this.tokenizer, encoding, masks[i], answers, i * slots * slotWidth, topK, slotWidth));
  }

  /**
   * SPLADE sparse lexical vectors from the masked-LM head, as text-embeddings-inference computes
   * them: for each vocabulary id, the max over the sentence's tokens of log(1 + relu(logit)).
   */
  async encodeSparse(texts: string[] | string[][], options: SparseEncodeOptions = {}): Promise<SparseVector[]> {
    const { isTokenized, splitPairs, signal } = readCallOptions('encodeSparse', options, COMMON_CALL_OPTION_NAMES);
    checkTexts(texts, isTokenized);
    this.#requireMaskedLmHead('encodeSparse');
    const inputs: (string | string[])[] = [...texts];
    const width = this.config.vocabSize;
    const dense = await this.#submitHead({
      count: inputs.length,
      tokenize: (start, end) => inputs.slice(start, end).map((text) => this.#tokenizeOne(text, isTokenized, splitPairs)),
      head: { kind: 'sparse' },
      rowWidth: width,
      signal,
    });
    return inputs.map((_, row) => sparseFromDense(dense.subarray(row * width, (row + 1) * width)));
  }

  /**
   * Scores each document against the query with a cross-encoder (BertForSequenceClassification with
   * one label) and returns them best first: scores as sentence-transformers' CrossEncoder.predict
   * gives them (its activation, sigmoid by default; the logit with rawScores). Pairs longer than
   * maxSeqLen are cut as CrossEncoder cuts them (longest_first) and marked `truncated`.
   */
  async rerank(query: string, documents: string[], options: RerankOptions = {}): Promise<RerankResult[]> {
    const { callOptions, signal } = readCallOptions('rerank', options, ['topK', 'returnDocuments', 'rawScores', 'truncate', 'signal']);
    checkQueryAndDocuments(query, documents);
    const topK = checkInteger('topK', callOptions.topK ?? documents.length, 1);
    const returnDocuments = callOptions.returnDocuments ?? false;
    assertBoolean('returnDocuments', returnDocuments);
    const rawScores = callOptions.rawScores ?? false;
    assertBoolean('rawScores', rawScores);
    const truncate = callOptions.truncate ?? true;
    assertBoolean('truncate', truncate);
    const classifier = this.#requireClassifierHead('rerank');
    if (classifier.labels.length !== 1) {
      throw new BertEmbedError(
        `rerank needs a cross-encoder (a classifier with one label), but ${this.modelDir} has ${classifier.labels.length} labels (${classifier.labels.join(', ')}): use classify`,
        'ERR_NO_CLASSIFIER_HEAD',
      );
    }
    if (!rawScores && classifier.unsupportedActivation) {
      throw new BertEmbedError(`${this.modelDir}'s config.json asks CrossEncoder for activation ${classifier.unsupportedActivation}, which bert-embed-native does not have; pass rawScores: true for the logits`, 'ERR_MODEL_CONFIG');
    }
    const docs = [...documents];
    const pairs = docs.map((document, i) => this.#encodeClassifierInput(query, document, truncate, `documents[${i}]`));
    const logits = await this.#classifierLogits(pairs, signal);
    const results = docs.map((document, index): RerankResult => {
      const score = rawScores ? logits[index] : applyCrossEncoderActivation(logits[index], classifier.crossEncoderActivation);
      return { index, score, ...(returnDocuments ? { document } : {}), truncated: pairs[index].truncated };
    });
    return results.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, topK);
  }

  /**
   * Labels of each input (a text, or a [textA, textB] pair) with BertForSequenceClassification's
   * head, best first: softmax over the labels, or a sigmoid each for multi_label_classification (and
   * one label), as transformers' text-classification pipeline gives them; logits with rawScores.
   */
  async classify(inputs: ClassifyInput[], options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    const { callOptions, signal } = readCallOptions('classify', options, ['topK', 'rawScores', 'truncate', 'signal']);
    checkClassifyInputs(inputs);
    const classifier = this.#requireClassifierHead('classify');
    const labelCount = classifier.labels.length;
    const topK = checkInteger('topK', callOptions.topK ?? labelCount, 1, labelCount);
    const rawScores = callOptions.rawScores ?? false;
    assertBoolean('rawScores', rawScores);
    const truncate = callOptions.truncate ?? true;
    assertBoolean('truncate', truncate);
    const encoded = [...inputs].map((input, i) =>
      typeof input === 'string' ? this.#encodeClassifierInput(input, undefined, truncate, `inputs[${i}]`) : this.#encodeClassifierInput(input[0], input[1], truncate, `inputs[${i}]`),
    );
    const logits = await this.#classifierLogits(encoded, signal);
    const fn = rawScores ? 'none' : pipelineFunctionFor(classifier);
    return encoded.map((input, row) => ({ labels: labelScores(logits, row * labelCount, classifier.labels, fn, topK), truncated: input.truncated }));
  }

  /**
   * The masked-LM head on token ids built by the caller (TensorFlow Serving's BERT clients put
   * [MASK] ids in place themselves): for each row, the log-probability of targets[j] at
   * positions[j], 0 for an unused slot (position -1).
   */
  async maskedLmLogProbs(rows: MaskedLmRow[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const { signal } = readCallOptions('maskedLmLogProbs', options, ['signal']);
    const checked = this.#checkMaskedLmRows(rows);
    this.#requireMaskedLmHead('maskedLmLogProbs');
    const slots = Math.max(1, ...checked.map((row) => row.positions!.length));
    const slotWidth = maskedLmSlotWidth(0);
    const padded = checked.map((row) => {
      const positions = [...row.positions!, ...new Array<number>(slots - row.positions!.length).fill(-1)];
      const targets = [...row.targets!, ...new Array<number>(slots - row.targets!.length).fill(-1)];
      return { ids: row.ids, typeIds: row.typeIds, positions, targets };
    });
    const answers = await this.#submitHead({
      count: padded.length,
      tokenize: (start, end) => padded.slice(start, end),
      head: { kind: 'maskedLm', slots, topK: 0 },
      rowWidth: slots * slotWidth,
      signal,
    });
    return checked.map((row, i) => {
      const logprobs = new Float32Array(row.positions!.length);
      for (let slot = 0; slot < logprobs.length; slot++) logprobs[slot] = answers[(i * slots + slot) * slotWidth];
      return logprobs;
    });
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
      heads: [...this.heads],
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

  #pooledHead(pooling: ResolvedPoolingOptions): NativeHeadSpec {
    return {
      kind: 'pooled',
      strategy: pooling.pooling,
      layers: pooling.layers.map((layer) => absoluteLayer(layer, this.config.numLayers)),
      maskClsSep: pooling.maskClsSep,
      normalize: pooling.normalize,
      clsId: this.tokenizer.clsId,
      sepId: this.tokenizer.sepId,
      outputSeqLen: this.maxTokens,
    };
  }

  #submitHead(call: ScheduledEncode): Promise<Float32Array> {
    if (this.#closing) return Promise.reject(closedError());
    return this.#scheduler.submit(call);
  }

  #requireMaskedLmHead(method: string): void {
    if (this.heads.includes('maskedLm')) return;
    throw new BertEmbedError(
      `${method} needs BERT's masked-LM head, but ${this.modelDir} has none (no cls.predictions.* tensors): it is a ` +
        'plain BertModel or sentence-transformers checkpoint. Load a BertForMaskedLM checkpoint, such as bert-base-uncased as Google published it.',
      'ERR_NO_MLM_HEAD',
    );
  }

  #requireClassifierHead(method: string): ClassifierConfig {
    if (this.heads.includes('classification') && this.#classifier) return this.#classifier;
    if (this.#classifierError) throw this.#classifierError;
    throw new BertEmbedError(
      `${method} needs BertForSequenceClassification's head, but ${this.modelDir} has none (no classifier.weight / classifier.bias tensors): ` +
        'it is not a cross-encoder or sequence classifier. Load a checkpoint saved from BertForSequenceClassification or sentence-transformers\' CrossEncoder.',
      'ERR_NO_CLASSIFIER_HEAD',
    );
  }

  #encodeClassifierInput(first: string, second: string | undefined, truncate: boolean, field: string): PairEncoding {
    return encodePair(this.tokenizer, first, second, { maxTokens: this.maxTokens, specialTokens: this.options.specialTokens, truncate, field });
  }

  /** The classifier's logits for encoded inputs, [inputs × labels], through the scheduler like every other call. */
  #classifierLogits(inputs: PairEncoding[], signal: AbortSignal | undefined): Promise<Float32Array> {
    return this.#submitHead({
      count: inputs.length,
      tokenize: (start, end) => inputs.slice(start, end).map((input) => input.encoding),
      head: { kind: 'classification' },
      rowWidth: this.#classifier!.labels.length,
      signal,
    });
  }

  #maskId(): number {
    const id = this.tokenizer.tokenToId(this.tokenizer.config.maskToken);
    if (id === undefined) {
      throw new BertEmbedError(`${this.modelDir}: the vocabulary has no mask token ${this.tokenizer.config.maskToken}`, 'ERR_MODEL_CONFIG');
    }
    return id;
  }

  /** Whether maxSeqLen cuts the text (encode and score truncate the same way). */
  #isTruncated(text: string | string[], isTokenized: boolean, splitPairs: boolean): boolean {
    const options = { addSpecialTokens: this.options.specialTokens };
    const full = isTokenized ? this.tokenizer.encodeTokenized(text as string[], undefined, options) : this.tokenizer.encode(text as string, undefined, { ...options, splitPairs });
    return full.ids.length > this.maxTokens;
  }

  #tokenizeWithOffsets(text: string | string[], isTokenized: boolean, splitPairs = true): EncodingWithOffsets {
    const options = { maxLength: this.maxTokens, addSpecialTokens: this.options.specialTokens };
    if (isTokenized) return this.tokenizer.encodeTokenizedWithOffsets(text as string[], undefined, options);
    return this.tokenizer.encodeWithOffsets(text as string, undefined, { ...options, splitPairs });
  }

  /** Rows for maskedLmLogProbs, each checked against the model's sizes. */
  #checkMaskedLmRows(rows: unknown): TokenizedSentence[] {
    if (!Array.isArray(rows)) throw new TypeError(expectationMessage('rows', 'array of {ids, typeIds, positions, targets}', rows));
    const { vocabSize, typeVocabSize, maxPositions } = this.config;
    return rows.map((row: unknown, i) => {
      const fields = checkPlainObject(`rows[${i}]`, row);
      const ints = (name: string, minimum: number, maximum: number, length?: number): number[] => {
        const value = fields[name];
        const field = `rows[${i}].${name}`;
        const isArrayLike = Array.isArray(value) || ArrayBuffer.isView(value);
        if (!isArrayLike) throw new TypeError(expectationMessage(field, 'array of integers', value));
        const values = Array.from(value as ArrayLike<unknown>);
        if (length !== undefined && values.length !== length) throw new RangeError(expectationMessage(`${field}.length`, `${length}`, values.length));
        values.forEach((element, j) => checkInteger(`${field}[${j}]`, element, minimum, maximum));
        return values as number[];
      };
      const ids = ints('ids', 0, vocabSize - 1);
      if (ids.length === 0 || ids.length > maxPositions) {
        throw new RangeError(expectationMessage(`rows[${i}].ids.length`, `integer from 1 to ${maxPositions}`, ids.length));
      }
      const typeIds = ints('typeIds', 0, typeVocabSize - 1, ids.length);
      const positions = ints('positions', -1, ids.length - 1);
      const targets = ints('targets', 0, vocabSize - 1, positions.length);
      return { ids, typeIds, positions, targets };
    });
  }

  #tokenizeOne(text: string | string[], isTokenized: boolean, splitPairs = true): Encoding {
    const options = { maxLength: this.maxTokens, addSpecialTokens: this.options.specialTokens };
    if (isTokenized) return this.tokenizer.encodeTokenized(text as string[], undefined, options);
    return this.tokenizer.encode(text as string, undefined, { ...options, splitPairs });
  }

  /** Without [CLS]/[SEP] an empty text has no token at all, and a forward pass needs one: refused up front, by name. */
  #checkEveryTextHasTokens(texts: readonly (string | string[])[], isTokenized: boolean, splitPairs: boolean): void {
    if (this.options.specialTokens) return;
    texts.forEach((text, i) => {
      if (this.#tokenizeOne(text, isTokenized, splitPairs).ids.length > 0) return;
      throw new RangeError(expectationMessage(`texts[${i}]`, 'a text with at least one token (specialTokens is false)', text));
    });
  }
}

/** The first `kept` token vectors of each row of `[rows, tokenRows, dimension]` vectors. */
function keepLeadingTokenRows(data: Float32Array, rows: number, tokenRows: number, kept: number, dimension: number): Float32Array {
  const out = new Float32Array(rows * kept * dimension);
  for (let row = 0; row < rows; row++) out.set(data.subarray(row * tokenRows * dimension, (row * tokenRows + kept) * dimension), row * kept * dimension);
  return out;
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
