/** Defaults a sentence-transformers directory declares: pooling, sequence length, normalization. */
import { BertEmbedError } from '../errors.js';
import type { PoolingStrategy } from '../options.js';
import { expectationMessage } from '../validation.js';
import type { ModelFiles } from './model-files.js';
import { readModelJsonFile } from './model-files.js';

export interface ModelDefaults {
  pooling?: PoolingStrategy;
  /** sentence-transformers pools the last layer */
  layers?: number[];
  maxSeqLen?: number;
  normalize?: boolean;
}

function invalid(file: string, field: string, expected: string, value: unknown): BertEmbedError {
  return new BertEmbedError(`${file}: ${expectationMessage(field, expected, value)}`, 'ERR_MODEL_CONFIG');
}

function readObject(file: string): Record<string, unknown> {
  const json = readModelJsonFile(file);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(file, 'the file', 'a JSON object', json);
  return json as Record<string, unknown>;
}

const POOLING_FLAGS = ['pooling_mode_cls_token', 'pooling_mode_mean_tokens', 'pooling_mode_max_tokens', 'pooling_mode_lasttoken'] as const;

function poolingFrom(file: string, config: Record<string, unknown>): PoolingStrategy | undefined {
  for (const flag of POOLING_FLAGS) {
    if (config[flag] !== undefined && typeof config[flag] !== 'boolean') throw invalid(file, flag, 'boolean', config[flag]);
  }
  if (config.pooling_mode_mean_tokens && config.pooling_mode_max_tokens) return 'REDUCE_MEAN_MAX';
  if (config.pooling_mode_mean_tokens) return 'REDUCE_MEAN';
  if (config.pooling_mode_max_tokens) return 'REDUCE_MAX';
  if (config.pooling_mode_cls_token) return 'CLS_TOKEN';
  if (config.pooling_mode_lasttoken) return 'LAST_TOKEN';
  return undefined;
}

export function readModelDefaults(files: ModelFiles): ModelDefaults {
  const defaults: ModelDefaults = {};
  if (files.poolingConfig) {
    const pooling = poolingFrom(files.poolingConfig, readObject(files.poolingConfig));
    if (pooling) {
      defaults.pooling = pooling;
      defaults.layers = [-1];
    }
  }
  if (files.sentenceBertConfig) {
    const maxSeqLength = readObject(files.sentenceBertConfig).max_seq_length;
    if (maxSeqLength !== undefined && maxSeqLength !== null) {
      if (typeof maxSeqLength !== 'number' || !Number.isSafeInteger(maxSeqLength) || maxSeqLength < 2) {
        throw invalid(files.sentenceBertConfig, 'max_seq_length', 'integer of at least 2', maxSeqLength);
      }
      defaults.maxSeqLen = maxSeqLength;
    }
  }
  if (files.modulesJson) {
    const modules = readModelJsonFile(files.modulesJson);
    if (!Array.isArray(modules)) throw invalid(files.modulesJson, 'the file', 'a JSON array of modules', modules);
    defaults.normalize = modules.some((m) => typeof m?.type === 'string' && m.type.endsWith('.Normalize'));
  }
  return defaults;
}
