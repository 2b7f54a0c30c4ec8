/** A Hugging Face BERT config.json, checked before anything reaches the native side. */
import { BertEmbedError } from '../errors.js';
import type { NativeBertConfig } from '../native/binding.js';
import { readJsonFile } from './model-files.js';

export interface BertModelConfig extends NativeBertConfig {
  padTokenId: number;
}

const SUPPORTED_ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

function configError(file: string, message: string): BertEmbedError {
  return new BertEmbedError(`${file}: ${message}`, 'ERR_MODEL_CONFIG');
}

export function readBertConfig(file: string): BertModelConfig {
  const raw = readJsonFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(file, 'expected a JSON object');
  const json = raw as Record<string, unknown>;
  const architectures = Array.isArray(json.architectures) ? json.architectures.map(String) : [];
  const isBert = json.model_type === 'bert' || (json.model_type === undefined && architectures.some((a) => a.startsWith('Bert')));
  if (!isBert) {
    throw configError(
      file,
      `describes a ${JSON.stringify(json.model_type ?? architectures[0] ?? 'unknown')} model, but bert-embed-native runs BERT models (model_type "bert")`,
    );
  }
  const positiveInteger = (key: string, fallback?: number): number => {
    const value = json[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw configError(file, `expected a positive integer for ${key} but found ${JSON.stringify(value)}`);
    }
    return value;
  };
  const config: BertModelConfig = {
    vocabSize: positiveInteger('vocab_size'),
    hiddenSize: positiveInteger('hidden_size'),
    numLayers: positiveInteger('num_hidden_layers'),
    numHeads: positiveInteger('num_attention_heads'),
    intermediateSize: positiveInteger('intermediate_size'),
    maxPositions: positiveInteger('max_position_embeddings', 512),
    typeVocabSize: positiveInteger('type_vocab_size', 2),
    layerNormEps: typeof json.layer_norm_eps === 'number' ? json.layer_norm_eps : 1e-12,
    hiddenAct: typeof json.hidden_act === 'string' ? json.hidden_act : 'gelu',
    padTokenId: typeof json.pad_token_id === 'number' ? json.pad_token_id : 0,
  };
  if (config.hiddenSize % config.numHeads !== 0) {
    throw configError(file, `hidden_size ${config.hiddenSize} is not a multiple of num_attention_heads ${config.numHeads}`);
  }
  if (!SUPPORTED_ACTIVATIONS.includes(config.hiddenAct)) {
    throw configError(file, `hidden_act ${JSON.stringify(config.hiddenAct)} is not supported (expected one of ${SUPPORTED_ACTIVATIONS.join(', ')})`);
  }
  const positionType = json.position_embedding_type ?? 'absolute';
  if (positionType !== 'absolute') {
    throw configError(file, `position_embedding_type ${JSON.stringify(positionType)} is not supported (expected "absolute")`);
  }
  return config;
}
