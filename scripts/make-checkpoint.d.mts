// Types for scripts/make-checkpoint.mjs (plain ESM, no build step).

export type CheckpointDtype = 'F32' | 'F16' | 'BF16';

export interface BertConfigJson {
  hidden_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  intermediate_size: number;
  vocab_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps?: number;
  hidden_act?: string;
  model_type?: string;
  [key: string]: unknown;
}

export interface MakeCheckpointOptions {
  /** config object (alternative to configPath) */
  config?: Partial<BertConfigJson> & Record<string, unknown>;
  /** path of a config.json; tokenizer / sentence-transformers files beside it are copied */
  configPath?: string;
  outDir: string;
  /** default 1 */
  seed?: number | string;
  /** default 'F32' */
  dtype?: CheckpointDtype | Lowercase<CheckpointDtype>;
  /** default 0.02 */
  std?: number;
  /** '' (default) or e.g. 'bert.' */
  prefix?: string;
  /** write LayerNorm.gamma / LayerNorm.beta instead of .weight / .bias */
  legacyLayerNorm?: boolean;
  /** default: vocab.txt beside configPath */
  vocabPath?: string;
  /** partial config applied on top of the config (vocab_size here overrides the vocab line count) */
  overrides?: Partial<BertConfigJson> & Record<string, unknown>;
  /** write the int64 embeddings.position_ids buffer [1, max_position_embeddings] */
  includePositionIds?: boolean;
  /** also write BertForMaskedLM's head (cls.predictions.*, never prefixed) and architectures: ['BertForMaskedLM'] */
  mlmHead?: boolean;
  /** also write cls.predictions.decoder.weight / .bias and tie_word_embeddings: false (implies mlmHead) */
  untiedDecoder?: boolean;
  /** std of the head's tensors (default: std) */
  headStd?: number;
  /**
   * also write BertForSequenceClassification's classifier (classifier.*, never prefixed; the pooler is always written),
   * architectures: ['BertForSequenceClassification'], id2label / label2id from `labels`, and problem_type when given
   */
  classifier?: { labels: string[]; problemType?: string };
}

export interface MakeCheckpointResult {
  outDir: string;
  config: BertConfigJson;
  /** files written, relative to outDir */
  files: string[];
  dtype: CheckpointDtype;
  seed: number | string;
  prefix: string;
  legacyLayerNorm: boolean;
  includePositionIds: boolean;
  mlmHead: boolean;
  untiedDecoder: boolean;
  tensors: { name: string; shape: number[] }[];
  /** number of float parameters */
  parameters: number;
  /** size of model.safetensors */
  bytes: number;
  ms: number;
}

export function makeCheckpoint(options: MakeCheckpointOptions): Promise<MakeCheckpointResult>;

export interface PlannedTensor {
  name: string;
  canonical: string;
  shape: number[];
  kind: 'normal' | 'layernorm-weight' | 'position-ids';
  /** one of BertForMaskedLM's cls.* tensors */
  head: boolean;
}
export function planTensors(
  config: BertConfigJson,
  options?: { prefix?: string; legacyLayerNorm?: boolean; includePositionIds?: boolean; mlmHead?: boolean; untiedDecoder?: boolean },
): PlannedTensor[];

export function float32BitsToFloat16Bits(bits: number): number;
export function float32BitsToBfloat16Bits(bits: number): number;
export function numberToFloat16Bits(x: number): number;
export function numberToBfloat16Bits(x: number): number;
export function countVocabLines(text: string): number;
export function createNormalGenerator(
  seed: number | string,
  stream?: string,
): { fill(out: { [i: number]: number; length: number }, n: number, mean: number, std: number): void; nextUint32(): number };
export function parseArgs(argv: string[]): { opts: MakeCheckpointOptions & { help?: boolean }; quiet: boolean };
