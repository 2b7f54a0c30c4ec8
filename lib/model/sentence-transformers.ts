/** Defaults a sentence-transformers directory declares: pooling, sequence length, normalization. */
import fs from 'node:fs';
import type { PoolingStrategy } from '../options.js';
import type { ModelFiles } from './model-files.js';
import { readJsonFile } from './model-files.js';

export interface ModelDefaults {
  pooling?: PoolingStrategy;
  /** sentence-transformers pools the last layer */
  layers?: number[];
  maxSeqLen?: number;
  normalize?: boolean;
}

function poolingFrom(config: Record<string, unknown>): PoolingStrategy | undefined {
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
    const pooling = poolingFrom(readJsonFile(files.poolingConfig) as Record<string, unknown>);
    if (pooling) {
      defaults.pooling = pooling;
      defaults.layers = [-1];
    }
  }
  if (files.sentenceBertConfig) {
    const maxSeqLength = (readJsonFile(files.sentenceBertConfig) as Record<string, unknown>).max_seq_length;
    if (typeof maxSeqLength === 'number' && Number.isInteger(maxSeqLength) && maxSeqLength > 0) defaults.maxSeqLen = maxSeqLength;
  }
  if (files.modulesJson && fs.existsSync(files.modulesJson)) {
    const modules = readJsonFile(files.modulesJson);
    if (Array.isArray(modules)) {
      defaults.normalize = modules.some((m) => typeof m?.type === 'string' && m.type.endsWith('.Normalize'));
    }
  }
  return defaults;
}
