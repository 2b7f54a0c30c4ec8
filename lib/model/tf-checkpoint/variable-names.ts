/**
 * Google's TensorFlow BERT variable names (google-research/bert's modeling.py, as bert-as-service
 * loads them) and the canonical Hugging Face names the engine uses (canonicalTensorName in
 * ../safetensors-index.ts): `bert/encoder/layer_3/attention/self/query/kernel` is
 * `encoder.layer.3.attention.self.query.weight`, stored [in, out] where torch's Linear is [out, in].
 * Names that are no part of the model (adam_m/adam_v slots, global_step, cls/seq_relationship,
 * a classifier's output_weights) map to names the engine never asks for, and are left alone.
 */

export interface CanonicalName {
  name: string;
  /** a dense kernel: stored [in, out] */
  transposed: boolean;
}

const MLM_OUTPUT_BIAS = 'cls/predictions/output_bias';

export function canonicalFromGoogleName(googleName: string): CanonicalName {
  if (googleName === MLM_OUTPUT_BIAS) return { name: 'cls.predictions.bias', transposed: false };
  const parts = googleName.replace(/^bert\//, '').split('/');
  const last = parts[parts.length - 1];
  let transposed = false;
  if (last === 'kernel') {
    parts[parts.length - 1] = 'weight';
    transposed = true;
  } else if (last === 'gamma') parts[parts.length - 1] = 'weight';
  else if (last === 'beta') parts[parts.length - 1] = 'bias';
  else if (/_embeddings$/.test(last)) parts.push('weight');
  return { name: parts.join('.').replace(/(^|\.)layer_(\d+)(?=\.)/, '$1layer.$2'), transposed };
}

/** The Google name of a canonical tensor name: what a message names as missing. */
export function googleNameOf(canonicalName: string): string {
  if (canonicalName === 'cls.predictions.bias') return MLM_OUTPUT_BIAS;
  const parts = canonicalName.replace(/(^|\.)layer\.(\d+)(?=\.)/, '$1layer_$2').split('.');
  const last = parts.pop();
  const owner = parts[parts.length - 1] ?? '';
  if (owner === 'LayerNorm') parts.push(last === 'weight' ? 'gamma' : 'beta');
  else if (/_embeddings$/.test(owner)) {
    // the table is the variable itself
  } else parts.push(last === 'weight' ? 'kernel' : (last ?? ''));
  const name = parts.join('/');
  return name.startsWith('cls/') ? name : `bert/${name}`;
}
