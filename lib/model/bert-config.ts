/**
 * A Hugging Face BERT config.json, checked before anything reaches the native side: every field
 * the engine uses has its type and range checked here, a missing one takes transformers' default,
 * and an error names the file, the field and what was expected. The sizes are checked again
 * against the weights' shapes (safetensors-index.ts) before anything is allocated for them.
 */
import { BertEmbedError } from '../errors.js';
import type { NativeBertConfig } from '../native/binding.js';
import { expectationMessage } from '../validation.js';
import { readModelJsonFile } from './model-files.js';

export interface BertModelConfig extends NativeBertConfig {
  padTokenId: number;
}

export const SUPPORTED_ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'] as const;

function configError(file: string, message: string): BertEmbedError {
  return new BertEmbedError(`${file}: ${message}`, 'ERR_MODEL_CONFIG');
}

/** The fields of one config.json, each read with its expectation; absent (or null) fields take `fallback`. */
class ConfigFields {
  constructor(
    readonly file: string,
    readonly json: Record<string, unknown>,
  ) {}

  #present(key: string): unknown {
    const value = this.json[key];
    return value === null ? undefined : value;
  }

  #invalid(key: string, expected: string, value: unknown): BertEmbedError {
    return configError(this.file, expectationMessage(key, expected, value));
  }

  integer(key: string, minimum: number, fallback?: number): number {
    const value = this.#present(key) ?? fallback;
    const expected = minimum === 0 ? 'non-negative integer' : minimum === 1 ? 'positive integer' : `integer of at least ${minimum}`;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) throw this.#invalid(key, expected, value);
    return value;
  }

  positiveFinite(key: string, fallback: number): number {
    const value = this.#present(key) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw this.#invalid(key, 'finite number above 0', value);
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.#present(key) ?? fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw this.#invalid(key, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
    }
    return value as T;
  }

  /** An optional string (model_type). */
  string(key: string): string | undefined {
    const value = this.#present(key);
    if (value !== undefined && typeof value !== 'string') throw this.#invalid(key, 'string', value);
    return value;
  }

  /** An optional array of strings (architectures). */
  strings(key: string): string[] {
    const value = this.#present(key) ?? [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw this.#invalid(key, 'array of strings', value);
    return value as string[];
  }
}

/**
 * `format` 'google' reads Google's bert_config.json (a TensorFlow checkpoint's, as bert-as-service
 * loads it): the same fields without model_type, which only Hugging Face's configs carry.
 */
export type ConfigFormat = 'huggingface' | 'google';

export function readBertConfig(file: string, format: ConfigFormat = 'huggingface'): BertModelConfig {
  const raw = readModelJsonFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError(file, expectationMessage('the file', 'a JSON object', raw));
  }
  const fields = new ConfigFields(file, raw as Record<string, unknown>);
  const modelType = fields.string('model_type');
  const architectures = fields.strings('architectures');
  const isBert = modelType === 'bert' || (modelType === undefined && (format === 'google' || architectures.some((a) => a.startsWith('Bert'))));
  if (!isBert) {
    throw configError(
      file,
      `describes a ${JSON.stringify(modelType ?? architectures[0] ?? 'unknown')} model, but bert-embed-native runs BERT models (model_type "bert")`,
    );
  }
  const vocabSize = fields.integer('vocab_size', 1);
  const config: BertModelConfig = {
    vocabSize,
    hiddenSize: fields.integer('hidden_size', 1),
    numLayers: fields.integer('num_hidden_layers', 1),
    numHeads: fields.integer('num_attention_heads', 1),
    intermediateSize: fields.integer('intermediate_size', 1),
    // Every sequence holds [CLS] and [SEP].
    maxPositions: fields.integer('max_position_embeddings', 2, 512),
    typeVocabSize: fields.integer('type_vocab_size', 1, 2),
    layerNormEps: fields.positiveFinite('layer_norm_eps', 1e-12),
    hiddenAct: fields.oneOf('hidden_act', SUPPORTED_ACTIVATIONS, 'gelu'),
    padTokenId: fields.integer('pad_token_id', 0, 0),
  };
  if (config.padTokenId >= vocabSize) {
    throw configError(file, expectationMessage('pad_token_id', `integer from 0 to ${vocabSize - 1} (below vocab_size)`, config.padTokenId));
  }
  if (config.hiddenSize % config.numHeads !== 0) {
    throw configError(file, `hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.numHeads}`);
  }
  fields.oneOf('position_embedding_type', ['absolute'], 'absolute');
  return config;
}
