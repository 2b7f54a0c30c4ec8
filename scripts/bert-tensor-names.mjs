// Hugging Face BERT's tensor names for the test fixtures and scripts, read from scripts/bert-tensor-names.json (the one
// place they are spelled; scripts/bert_tensor_names.py reads the same file for the Python side). Plain Node ESM, no
// dependencies, no build step. The product's own reader (lib/model/safetensors-index.ts, native/) does not use this.

import fs from 'node:fs';

/** scripts/bert-tensor-names.json as it is. */
export const BERT_TENSOR_NAMES = Object.freeze(JSON.parse(fs.readFileSync(new URL('./bert-tensor-names.json', import.meta.url), 'utf8')));

const N = BERT_TENSOR_NAMES;

/** 'bert.': the prefix BertForMaskedLM (and other task models) put before the encoder's names. */
export const ENCODER_PREFIX = N.encoderPrefix;
/** 'cls.': the masked-LM head's names start with it, and are never prefixed. */
export const HEAD_PREFIX = N.headPrefix;
/** The word embeddings' weight: every BERT checkpoint has it, so it tells the prefix. */
export const WORD_EMBEDDINGS = `${N.embeddings.word.name}.weight`;
/** The int64 position-ids buffer some checkpoints carry. */
export const POSITION_IDS = N.positionIds.name;
/** Head tensors that, when absent, are these tensors (tie_word_embeddings). */
export const TIED_TO = Object.freeze({ ...N.tiedTo });

/** Every module of the JSON by kind: the last name segment of LayerNorm modules ('LayerNorm'). */
const LAYER_NORM_SEGMENTS = new Set(
  [...Object.values(N.embeddings), ...Object.values(N.layer), ...Object.values(N.maskedLmHead)]
    .filter((m) => m.kind === 'layerNorm')
    .map((m) => m.name.slice(m.name.lastIndexOf('.') + 1)),
);

/** The parameter names of a LayerNorm: { weight: 'weight', bias: 'bias' }, or gamma / beta when legacy. */
export function layerNormParameters(legacy = false) {
  return legacy ? N.legacyLayerNorm : N.layerNorm;
}

/** The module name of one of a layer's modules (role: query, key, value, attentionOutput, ...), e.g. encoder.layer.3.attention.self.query. */
export function layerModuleName(layer, role) {
  const module = N.layer[role];
  if (!module) throw new Error(`bert-tensor-names: no layer module '${role}'`);
  return N.layerPrefix.replace('{i}', String(layer)) + module.name;
}

/** Whether a (written) tensor name is one of the masked-LM head's. */
export function isHeadTensor(name) {
  return name.startsWith(HEAD_PREFIX);
}

/**
 * The canonical name of a checkpoint tensor: without the encoder's prefix (given, e.g. 'bert.'; the head has none) and
 * with LayerNorm.weight / .bias for gamma / beta.
 */
export function canonicalTensorName(name, prefix = '') {
  let out = prefix && !isHeadTensor(name) && name.startsWith(prefix) ? name.slice(prefix.length) : name;
  const dot = out.lastIndexOf('.');
  const base = out.slice(0, dot);
  const parameter = out.slice(dot + 1);
  if (LAYER_NORM_SEGMENTS.has(base.slice(base.lastIndexOf('.') + 1))) {
    if (parameter === N.legacyLayerNorm.weight) out = `${base}.${N.layerNorm.weight}`;
    else if (parameter === N.legacyLayerNorm.bias) out = `${base}.${N.layerNorm.bias}`;
  }
  return out;
}

/** The prefix of the encoder's names in a list of tensor names ('' or e.g. 'bert.'), found from the word embeddings. */
export function detectEncoderPrefix(names) {
  const list = [...names];
  if (list.includes(WORD_EMBEDDINGS)) return '';
  if (list.includes(ENCODER_PREFIX + WORD_EMBEDDINGS)) return ENCODER_PREFIX;
  const found = list.find((n) => n.endsWith(`.${WORD_EMBEDDINGS}`));
  if (found !== undefined) return found.slice(0, found.length - WORD_EMBEDDINGS.length);
  throw new Error(`no ${WORD_EMBEDDINGS} among the checkpoint's tensors`);
}

function resolveShape(shape, config) {
  return shape.map((d) => {
    const v = typeof d === 'number' ? d : config[d];
    if (!Number.isInteger(v)) throw new Error(`bert-tensor-names: config.${d} is ${v}, not an integer`);
    return v;
  });
}

/**
 * The tensors of one module: [{ canonical, written, shape, kind }] where kind is 'normal', 'layernorm-weight' (a
 * LayerNorm's scale, centred on 1) or 'position-ids' (int64).
 */
function moduleTensors(module, name, config, legacyLayerNorm) {
  switch (module.kind) {
    case 'embedding':
      return [{ canonical: `${name}.weight`, written: `${name}.weight`, shape: resolveShape(module.shape, config), kind: 'normal' }];
    case 'linear': {
      const [out, inp] = resolveShape(module.shape, config);
      return [
        { canonical: `${name}.weight`, written: `${name}.weight`, shape: [out, inp], kind: 'normal' },
        { canonical: `${name}.bias`, written: `${name}.bias`, shape: [out], kind: 'normal' },
      ];
    }
    case 'layerNorm': {
      const written = layerNormParameters(legacyLayerNorm);
      const H = resolveShape(['hidden_size'], config)[0];
      return [
        { canonical: `${name}.${N.layerNorm.weight}`, written: `${name}.${written.weight}`, shape: [H], kind: 'layernorm-weight' },
        { canonical: `${name}.${N.layerNorm.bias}`, written: `${name}.${written.bias}`, shape: [H], kind: 'normal' },
      ];
    }
    case 'parameter':
      return [{ canonical: name, written: name, shape: resolveShape(module.shape, config), kind: 'normal' }];
    case 'buffer':
      return [{ canonical: name, written: name, shape: resolveShape(module.shape, config), kind: 'position-ids' }];
    default:
      throw new Error(`bert-tensor-names: unknown module kind ${module.kind}`);
  }
}

/**
 * Every tensor of a BertModel checkpoint for `config` (config.json's fields), plus BertForMaskedLM's head with mlmHead
 * and BertForSequenceClassification's classifier with classifierHead (config.num_labels rows),
 * in the order a checkpoint is written: [{ name (as written), canonical (no prefix, LayerNorm .weight/.bias), shape,
 * kind: 'normal'|'layernorm-weight'|'position-ids', head: one of the cls.* tensors }].
 */
export function bertTensors(
  config,
  { prefix = '', legacyLayerNorm = false, includePositionIds = false, pooler = true, mlmHead = false, untiedDecoder = false, classifierHead = false } = {},
) {
  const tensors = [];
  const add = (module, name = module.name, unprefixedHead = false) => {
    for (const t of moduleTensors(module, name, config, legacyLayerNorm)) {
      const head = unprefixedHead || isHeadTensor(t.canonical);
      tensors.push({ name: head ? t.written : prefix + t.written, canonical: t.canonical, shape: t.shape, kind: t.kind, head });
    }
  };
  // int64 first: offset 0 keeps it 8-byte aligned whatever the float dtype.
  if (includePositionIds) add(N.positionIds);
  for (const module of Object.values(N.embeddings)) add(module);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    for (const role of Object.keys(N.layer)) add(N.layer[role], layerModuleName(i, role));
  }
  if (pooler) for (const module of Object.values(N.pooler)) add(module);
  if (mlmHead || untiedDecoder) {
    for (const module of Object.values(N.maskedLmHead)) add(module);
    if (untiedDecoder) for (const module of Object.values(N.maskedLmDecoder)) add(module);
  }
  // BertForSequenceClassification's classifier (config.num_labels rows): a head, never prefixed.
  if (classifierHead) for (const module of Object.values(N.sequenceClassificationHead)) add(module, module.name, true);
  return tensors;
}
