/** Defaults a sentence-transformers directory declares: pooling, sequence length, normalization. */
import fs from 'node:fs';
import path from 'node:path';
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
  /** the directory declares a pooling the engine cannot reproduce: loading it needs an explicit `pooling` */
  unsupportedPooling?: string;
}

function invalid(file: string, field: string, expected: string, value: unknown): BertEmbedError {
  return new BertEmbedError(`${file}: ${expectationMessage(field, expected, value)}`, 'ERR_MODEL_CONFIG');
}

function readObject(file: string): Record<string, unknown> {
  const json = readModelJsonFile(file);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(file, 'the file', 'a JSON object', json);
  return json as Record<string, unknown>;
}

/**
 * sentence-transformers' pooling modes in the order its Pooling module concatenates them, with the
 * pooling_mode_* flag of each and the strategy that reproduces it alone.
 */
const POOLING_MODES: { mode: string; flag: string; strategy?: PoolingStrategy }[] = [
  { mode: 'cls', flag: 'pooling_mode_cls_token', strategy: 'CLS_TOKEN' },
  { mode: 'max', flag: 'pooling_mode_max_tokens', strategy: 'REDUCE_MAX' },
  { mode: 'mean', flag: 'pooling_mode_mean_tokens', strategy: 'REDUCE_MEAN' },
  { mode: 'mean_sqrt_len_tokens', flag: 'pooling_mode_mean_sqrt_len_tokens' },
  { mode: 'weightedmean', flag: 'pooling_mode_weightedmean_tokens' },
  { mode: 'lasttoken', flag: 'pooling_mode_lasttoken', strategy: 'LAST_TOKEN' },
];

/** The pooling a 1_Pooling/config.json declares: a strategy, or what it asks for that has none. */
type DeclaredPooling = { strategy: PoolingStrategy } | { unsupported: string } | undefined;

function strategyFor(modes: string[]): DeclaredPooling {
  if (modes.length === 0) return undefined;
  if (modes.length === 1) {
    const strategy = POOLING_MODES.find((m) => m.mode === modes[0])?.strategy;
    if (strategy) return { strategy };
  }
  // bert-as-service's REDUCE_MEAN_MAX is [mean, max]
  if (modes.length === 2 && modes[0] === 'mean' && modes[1] === 'max') return { strategy: 'REDUCE_MEAN_MAX' };
  return { unsupported: modes.join(' + ') };
}

function poolingFrom(file: string, config: Record<string, unknown>): DeclaredPooling {
  // sentence-transformers 6 writes `pooling_mode` (a name, or a list concatenated in its order) and reads
  // it before any pooling_mode_* flag.
  const mode = config.pooling_mode;
  if (mode !== undefined && mode !== null) {
    const modes = typeof mode === 'string' ? [mode] : mode;
    if (!Array.isArray(modes) || modes.length === 0 || modes.some((m) => typeof m !== 'string')) {
      throw invalid(file, 'pooling_mode', 'a pooling mode name or a non-empty array of them', mode);
    }
    return strategyFor(modes);
  }
  for (const { flag } of POOLING_MODES) {
    if (config[flag] !== undefined && typeof config[flag] !== 'boolean') throw invalid(file, flag, 'boolean', config[flag]);
  }
  return strategyFor(POOLING_MODES.filter(({ flag }) => config[flag] === true).map(({ mode }) => mode));
}

/** tokenizer_config.json's model_max_length, where it is a real length (transformers writes 1e30 for none). */
function tokenizerMaxLength(dir: string): number | undefined {
  const file = path.join(dir, 'tokenizer_config.json');
  if (!fs.existsSync(file)) return undefined;
  const length = readObject(file).model_max_length;
  return typeof length === 'number' && Number.isSafeInteger(length) && length >= 2 ? length : undefined;
}

export function readModelDefaults(files: ModelFiles): ModelDefaults {
  const defaults: ModelDefaults = {};
  if (files.poolingConfig) {
    const pooling = poolingFrom(files.poolingConfig, readObject(files.poolingConfig));
    if (pooling && 'strategy' in pooling) {
      defaults.pooling = pooling.strategy;
      defaults.layers = [-1];
    } else if (pooling) {
      defaults.unsupportedPooling = `${files.poolingConfig} asks for pooling ${pooling.unsupported}, which no pooling strategy reproduces`;
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
    // Without max_seq_length, sentence-transformers takes the tokenizer's (capped at the model's positions).
    defaults.maxSeqLen ??= tokenizerMaxLength(files.dir);
  }
  return defaults;
}
