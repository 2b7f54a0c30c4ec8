/**
 * Encoder: the public face of one model. A thin facade: each method is one task of lib/tasks/, run
 * in this encoder's context (its model, tokenizer, capabilities and engine).
 */
import type { Embeddings } from './embeddings.js';
import { closeHandle, closedError, loadReplicas, type NativeReplica, type ReplicaWrapper } from './encoder/replicas.js';
import { exportModel, type ExportOptions } from './encoder/export-model.js';
import { BatchScheduler, type ScheduledEncode } from './engine/batch-scheduler.js';
import type { EncoderStatus } from './encoder/encoder-status.js';
import type { BertModelConfig } from './model/bert-config.js';
import type { HeadName, ModelCapabilities } from './model/capabilities.js';
import { describeModel } from './model/model-description.js';
import type { WeightsFormat } from './model/model-files.js';
import { nativeBinding } from './native/binding.js';
import { truncationLength, type EncoderOptions, type ResolvedEncoderOptions } from './options.js';
import {
  classify,
  classifyTokens,
  embed,
  encodeSparse,
  encodeStream,
  fillMask,
  maskedLmLogProbs,
  pooledDimension,
  rerank,
  score,
  tokenize,
  type ClassifyInput,
  type ClassifyOptions,
  type ClassifyResult,
  type ClassifyTokensOptions,
  type EncodeOptions,
  type FillMaskCandidate,
  type FillMaskOptions,
  type MaskedLmRow,
  type RerankOptions,
  type RerankResult,
  type ScoreOptions,
  type SentenceScore,
  type SparseEncodeOptions,
  type SparseVector,
  type TaskContext,
  type TokenEntity,
  type TokenizedText,
} from './tasks/index.js';
import type { WordPieceTokenizer } from './tokenizer/index.js';

export type { ExportOptions, ExportTarget } from './encoder/export-model.js';
export type { HeadName } from './model/capabilities.js';

/** Sentences the scheduler keeps tokenized and waiting: what the length sort chooses among. */
const TOKENIZE_WINDOW = 4096;

/** What Encoder.load assembles; not part of the API (use Encoder.load). */
export interface EncoderParts {
  files: { dir: string; format: WeightsFormat; weights: string; config: string };
  config: BertModelConfig;
  tokenizer: WordPieceTokenizer;
  options: ResolvedEncoderOptions;
  replicas: NativeReplica[];
  capabilities: ModelCapabilities;
}

/** Loads a model into an Encoder; `wrapReplica` puts something between the engine and each replica (tests watch or fail batches so). */
export async function openEncoder(modelPath: string, options: EncoderOptions | undefined, wrapReplica?: ReplicaWrapper): Promise<Encoder> {
  const { files, config, options: resolved, tokenizer } = describeModel(modelPath, options);
  const { replicas, capabilities } = await loadReplicas(files, config, resolved, wrapReplica);
  const weights = files.weights.checkpointPrefix ?? files.weights.path;
  return new Encoder({ files: { dir: files.dir, format: files.weights.format, weights, config: files.configJson }, config, tokenizer, options: resolved, replicas, capabilities });
}

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
  /** what this model can do, decided once at load: its heads, and its classifier's labels */
  readonly capabilities: ModelCapabilities;
  /** what this model answers: 'pooled' (encode); 'maskedLm' and 'sparse' with BertForMaskedLM's head; 'classification' or 'tokenClassification' with a classifier */
  readonly heads: readonly HeadName[];
  readonly #replicas: NativeReplica[];
  readonly #scheduler: BatchScheduler;
  readonly #context: TaskContext;
  readonly #startedAt = new Date();
  #closing: Promise<void> | undefined;

  /** Not part of the API: use Encoder.load. */
  constructor(parts: EncoderParts) {
    const { files, config, tokenizer, options, replicas, capabilities } = parts;
    this.modelDir = files.dir;
    this.modelFiles = Object.freeze({ format: files.format, weights: files.weights, config: files.config });
    this.capabilities = capabilities;
    this.heads = capabilities.heads;
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
    this.maxTokens = truncationLength(options, config.maxPositions);
    this.dimension = pooledDimension(config.hiddenSize, options);
    this.#context = {
      modelDir: this.modelDir,
      config: this.config,
      options: this.options,
      tokenizer,
      maxTokens: this.maxTokens,
      capabilities,
      checkOpen: () => {
        if (this.#closing) throw closedError();
      },
      submit: (call: ScheduledEncode) => (this.#closing ? Promise.reject(closedError()) : this.#scheduler.submit(call)),
    };
  }

  /**
   * Loads a BERT model: a Hugging Face checkpoint directory (config.json, vocab.txt, model.safetensors),
   * a directory exported by Encoder.export (model.pt), a TorchScript file traced from Hugging Face
   * BertModel (beside its config.json and vocab.txt), or bert-as-service's model_dir: Google's
   * bert_config.json, vocab.txt and a TensorFlow checkpoint (bert_model.ckpt.*; tunedModelDir,
   * ckptName and configName choose other files as bert-as-service does). `workers` replicas are placed round-robin
   * over `devices`, each served by its own native thread.
   */
  static load(modelPath: string, options?: EncoderOptions): Promise<Encoder> {
    return openEncoder(modelPath, options);
  }

  /**
   * Exports a model into outDir and returns the path of the weights written. `to: 'hf'` (the default
   * for a TensorFlow checkpoint, bert-as-service's model_dir) writes a Hugging Face directory:
   * config.json, model.safetensors, vocab.txt, tokenizer_config.json. `to: 'torchscript'` (the
   * default for a Hugging Face checkpoint) compiles the model into model.pt with its config and
   * tokenizer files beside it, so that later loads skip compiling.
   */
  static export(modelDir: string, outDir: string, options: ExportOptions = {}): Promise<string> {
    return exportModel(modelDir, outDir, options);
  }

  /** Token ids exactly as the model sees them, with [CLS]/[SEP] and truncation to maxSeqLen. */
  tokenize(texts: string[]): TokenizedText[] {
    return tokenize(this.#context, texts);
  }

  /**
   * Encodes sentences (or `A ||| B` pairs, unless `splitPairs: false`) into vectors, off the event loop. Any number of
   * sentences: the scheduler batches them with other calls' by length, and the promise resolves
   * with this call's vectors in input order.
   */
  encode(texts: string[] | string[][], options: EncodeOptions = {}): Promise<Embeddings> {
    return embed(this.#context, texts, options);
  }

  /** Each sentence's masked-LM pseudo-log-likelihood, gathered into words (BertForMaskedLM's head). */
  score(texts: string[] | string[][], options: ScoreOptions = {}): Promise<SentenceScore[]> {
    return score(this.#context, texts, options);
  }

  /** The masked-LM head's `topK` most likely tokens at every [MASK] of each text: one list per [MASK]. */
  fillMask(texts: string[] | string[][], options: FillMaskOptions = {}): Promise<FillMaskCandidate[][][]> {
    return fillMask(this.#context, texts, options);
  }

  /** SPLADE sparse lexical vectors from the masked-LM head, as text-embeddings-inference computes them. */
  encodeSparse(texts: string[] | string[][], options: SparseEncodeOptions = {}): Promise<SparseVector[]> {
    return encodeSparse(this.#context, texts, options);
  }

  /** The documents scored against the query by a cross-encoder, best first, as CrossEncoder.predict scores them. */
  rerank(query: string, documents: string[], options: RerankOptions = {}): Promise<RerankResult[]> {
    return rerank(this.#context, query, documents, options);
  }

  /** Labels of each input (a text or a [textA, textB] pair), best first, as transformers' text-classification pipeline gives them. */
  classify(inputs: ClassifyInput[], options: ClassifyOptions = {}): Promise<ClassifyResult[]> {
    return classify(this.#context, inputs, options);
  }

  /** Each text's labelled tokens or entities (BertForTokenClassification), as transformers' token-classification pipeline gives them. */
  classifyTokens(texts: string[] | string[][], options: ClassifyTokensOptions = {}): Promise<TokenEntity[][]> {
    return classifyTokens(this.#context, texts, options);
  }

  /** The masked-LM head on token ids built by the caller: each row's log-probability of targets[j] at positions[j]. */
  maskedLmLogProbs(rows: MaskedLmRow[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    return maskedLmLogProbs(this.#context, rows, options);
  }

  /**
   * Encodes a stream of sentence lists (bert-as-service's encode_async): yields one Embeddings per
   * list, in input order, while later lists are already being encoded. Reading from `source`
   * pauses while a window of sentences is in flight. Stopping the loop early cancels what is queued.
   */
  encodeStream(source: AsyncIterable<string[]> | Iterable<string[]>, options: EncodeOptions = {}): AsyncGenerator<Embeddings, void, undefined> {
    return encodeStream((texts, callOptions) => this.encode(texts, callOptions), source, options, TOKENIZE_WINDOW);
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
}
