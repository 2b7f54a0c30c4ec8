// The random-weight checkpoints the engine tests share. test/setup/global.ts writes them once per
// run into .fixtures/checkpoints/ (gitignored) with scripts/make-checkpoint.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { ENCODER_PREFIX } from '../../scripts/bert-tensor-names.mjs';
import { fixturesRoot, sharedModel } from '../reference/helpers.js';

export interface CheckpointRecipe {
  configPath: string;
  seed: number;
  std: number;
  dtype?: 'F32' | 'F16' | 'BF16';
  prefix?: string;
  legacyLayerNorm?: boolean;
  includePositionIds?: boolean;
  /** also write BertForMaskedLM's head (cls.predictions.*) */
  mlmHead?: boolean;
  /** also write cls.predictions.decoder.weight / .bias (tie_word_embeddings: false in config.json) */
  untiedDecoder?: boolean;
  /** also write BertForSequenceClassification's classifier.* (one row per label) and id2label / problem_type */
  classifier?: { labels: string[]; problemType?: string };
  /** write BertForTokenClassification instead: classifier.* over every token, no pooler, id2label */
  tokenClassifier?: { labels: string[] };
  /** std of the head's tensors (default: std) */
  headStd?: number;
  /** fields set in the tokenizer_config.json written (e.g. model_max_length) */
  tokenizerConfig?: Record<string, unknown>;
  overrides?: Record<string, unknown>;
}

/** CoNLL-2003's labels in the order of dslim/bert-base-NER's id2label. */
export const TOKEN_LABELS = ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'];
/** The token classifiers' model_max_length (tokenizer_config.json): the pipeline's truncation and stride window. */
export const TOKEN_MAX_LENGTH = 48;

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
    prefix: ENCODER_PREFIX,
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
  // BertForMaskedLM checkpoints (head under cls.*, never prefixed; Hugging Face's BertForMaskedLM is their reference,
  // test/reference/hf-mlm.ts). The logits' spread over the vocabulary is about sqrt(hidden) * std (the decoder is the
  // word embeddings unless untied): bert-tiny at std 0.1 gives a top-1 probability about 60 / V at a masked token
  // (perplexity ~15k of 30522), hidden 96 needs std 0.15 for about 165 / V, MiniLM at 0.1 gives about 900 / V.
  'mlm-tiny': { configPath: path.join(sharedModel('bert-tiny'), 'config.json'), seed: 21, std: 0.1, mlmHead: true },
  'mlm-odd-legacy-prefixed': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 22,
    std: 0.15,
    mlmHead: true,
    prefix: ENCODER_PREFIX,
    legacyLayerNorm: true,
    overrides: { hidden_size: 96, num_attention_heads: 3, num_hidden_layers: 3, intermediate_size: 200, hidden_act: 'gelu_new' },
  },
  'mlm-minilm-untied': {
    configPath: path.join(sharedModel('all-MiniLM-L6-v2'), 'config.json'),
    seed: 23,
    std: 0.1,
    mlmHead: true,
    untiedDecoder: true,
  },
  // BertForSequenceClassification checkpoints (classifier.* never prefixed; the pooler is always written). Their
  // reference is transformers' BertForSequenceClassification and sentence-transformers' CrossEncoder
  // (test/reference/hf_classify.py). A cross-encoder as sentence-transformers saves one: one label, and its activation
  // in config.json; max_position_embeddings 64 so that truncation is easy to reach.
  'cross-encoder': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 31,
    std: 0.1,
    prefix: ENCODER_PREFIX,
    classifier: { labels: ['LABEL_0'] },
    overrides: { max_position_embeddings: 64, sentence_transformers: { activation_fn: 'torch.nn.modules.activation.Sigmoid', version: '6.0.1' } },
  },
  'classifier-3': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 32,
    std: 0.1,
    prefix: ENCODER_PREFIX,
    classifier: { labels: ['contradiction', 'entailment', 'neutral'], problemType: 'single_label_classification' },
    overrides: { hidden_size: 96, num_attention_heads: 3, num_hidden_layers: 2, intermediate_size: 200, max_position_embeddings: 64 },
  },
  // BertForTokenClassification checkpoints (classifier.* over every token, no pooler, CoNLL's BIO labels). Their
  // reference is transformers' token-classification pipeline (test/reference/hf_token_classification.py). The encoder
  // at BERT's own initializer range (std 0.02): at 0.1 MiniLM's last layer is nearly the same vector at every token
  // (one label for a whole text). The classifier is drawn wider (headStd) so that a token's two best logits are a
  // median ~3 apart (300 STS-B sentences: every label occurs, I- continuations ~10-30% of tokens, best probability
  // 0.56 / 0.93 / 1.0 at the 10th / 50th / 90th percentile), not near-ties that float32 could rank the other way round.
  // tokenizer_config.json's model_max_length is where the pipeline cuts and strides.
  'token-tiny': {
    configPath: path.join(sharedModel('bert-tiny'), 'config.json'),
    seed: 41,
    std: 0.02,
    headStd: 0.6,
    tokenClassifier: { labels: TOKEN_LABELS },
    tokenizerConfig: { model_max_length: TOKEN_MAX_LENGTH },
  },
  'token-minilm': {
    configPath: path.join(sharedModel('all-MiniLM-L6-v2'), 'config.json'),
    seed: 42,
    std: 0.02,
    headStd: 0.4,
    tokenClassifier: { labels: TOKEN_LABELS },
    tokenizerConfig: { model_max_length: TOKEN_MAX_LENGTH },
  },
} satisfies Record<string, CheckpointRecipe>;

export type CheckpointName = keyof typeof CHECKPOINTS;

export const checkpointsRoot = path.join(fixturesRoot, 'checkpoints');

export function checkpointDir(name: CheckpointName): string {
  return path.join(checkpointsRoot, name);
}

/** A copy of a checkpoint in `dir`, with one thing changed by `change`. */
export function changedCopy(name: CheckpointName, dir: string, change: (dir: string) => void): string {
  fs.cpSync(checkpointDir(name), dir, { recursive: true });
  change(dir);
  return dir;
}

/** Rewrites the config.json of a checkpoint copy through `edit`. */
export function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config));
}
