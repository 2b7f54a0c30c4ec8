// The random-weight checkpoints the engine tests share. test/setup/global.ts writes them once per
// run into .fixtures/checkpoints/ (gitignored) with scripts/make-checkpoint.mjs.
import path from 'node:path';
import { fixturesRoot, sharedModel } from '../reference/helpers.js';

export interface CheckpointRecipe {
  configPath: string;
  seed: number;
  std: number;
  dtype?: 'F32' | 'F16' | 'BF16';
  prefix?: string;
  legacyLayerNorm?: boolean;
  includePositionIds?: boolean;
  overrides?: Record<string, unknown>;
}

// std 0.1 makes attention far from uniform, so a wrong head split or mask shows in the numbers.
export const CHECKPOINTS = {
  tiny: { configPath: path.join(sharedModel('bert-tiny'), 'config.json'), seed: 11, std: 0.1 },
  minilm: { configPath: path.join(sharedModel('all-MiniLM-L6-v2'), 'config.json'), seed: 12, std: 0.1 },
  odd: {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 13,
    std: 0.1,
    overrides: { hidden_size: 96, num_attention_heads: 3, num_hidden_layers: 3, intermediate_size: 200, max_position_embeddings: 64 },
  },
  'odd-f16-prefixed': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 14,
    std: 0.1,
    dtype: 'F16',
    prefix: 'bert.',
    includePositionIds: true,
    overrides: { hidden_size: 96, num_attention_heads: 3, num_hidden_layers: 2, intermediate_size: 200, hidden_act: 'gelu_new' },
  },
  // Head size 24 (not a whole number of the CPU attention kernel's 16-float blocks) and room for
  // hundreds of tokens.
  'heads24-long': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 16,
    std: 0.1,
    overrides: { hidden_size: 72, num_attention_heads: 3, num_hidden_layers: 2, intermediate_size: 150, hidden_act: 'gelu_new', max_position_embeddings: 512 },
  },
  'tiny-bf16-legacy': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 15,
    std: 0.1,
    dtype: 'BF16',
    legacyLayerNorm: true,
  },
} satisfies Record<string, CheckpointRecipe>;

export type CheckpointName = keyof typeof CHECKPOINTS;

export const checkpointsRoot = path.join(fixturesRoot, 'checkpoints');

export function checkpointDir(name: CheckpointName): string {
  return path.join(checkpointsRoot, name);
}
