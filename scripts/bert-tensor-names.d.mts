// Types for scripts/bert-tensor-names.mjs (plain ESM, no build step).

export type ShapeEntry = number | string;
export interface ModuleSpec {
  name: string;
  kind: 'embedding' | 'linear' | 'layerNorm' | 'parameter' | 'buffer';
  /** config.json field names or numbers; absent for layerNorm ([hidden_size]) */
  shape?: ShapeEntry[];
}
export type LayerRole = 'query' | 'key' | 'value' | 'attentionOutput' | 'attentionLayerNorm' | 'intermediate' | 'output' | 'outputLayerNorm';

export interface BertTensorNames {
  encoderPrefix: string;
  headPrefix: string;
  layerNorm: { weight: string; bias: string };
  legacyLayerNorm: { weight: string; bias: string };
  positionIds: ModuleSpec;
  embeddings: { word: ModuleSpec; position: ModuleSpec; tokenType: ModuleSpec; layerNorm: ModuleSpec };
  layerPrefix: string;
  layer: Record<LayerRole, ModuleSpec>;
  pooler: { dense: ModuleSpec };
  maskedLmHead: { transform: ModuleSpec; layerNorm: ModuleSpec; bias: ModuleSpec };
  maskedLmDecoder: { decoder: ModuleSpec };
  sequenceClassificationHead: { classifier: ModuleSpec };
  tiedTo: Record<string, string>;
  unusedByMaskedLm: string[];
}

export const BERT_TENSOR_NAMES: Readonly<BertTensorNames>;
export const ENCODER_PREFIX: string;
export const HEAD_PREFIX: string;
export const WORD_EMBEDDINGS: string;
export const POSITION_IDS: string;
export const TIED_TO: Readonly<Record<string, string>>;

export function layerNormParameters(legacy?: boolean): { weight: string; bias: string };
export function layerModuleName(layer: number, role: LayerRole): string;
export function isHeadTensor(name: string): boolean;
export function canonicalTensorName(name: string, prefix?: string): string;
export function detectEncoderPrefix(names: Iterable<string>): string;

export interface BertTensor {
  /** as written in the checkpoint */
  name: string;
  /** no prefix, LayerNorm .weight / .bias */
  canonical: string;
  shape: number[];
  kind: 'normal' | 'layernorm-weight' | 'position-ids';
  /** one of BertForMaskedLM's cls.* tensors */
  head: boolean;
}
export interface BertTensorOptions {
  prefix?: string;
  legacyLayerNorm?: boolean;
  includePositionIds?: boolean;
  /** default true */
  pooler?: boolean;
  mlmHead?: boolean;
  untiedDecoder?: boolean;
  /** BertForSequenceClassification's classifier (config.num_labels rows), never prefixed */
  classifierHead?: boolean;
}
export function bertTensors(config: Record<string, unknown>, options?: BertTensorOptions): BertTensor[];
