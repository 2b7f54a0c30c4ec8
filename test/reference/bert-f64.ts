// Independent float64 BERT reference (written from the math of the BERT paper / HF BertModel semantics, not from any
// TorchScript source): embeddings -> LayerNorm -> L x [self-attention, add & norm, feed-forward, add & norm].
// Used by tests to check the native engine's hidden states and pooled sentence vectors.

import fs from 'node:fs';
import path from 'node:path';
import { openSafetensors, type SafetensorsFile } from './safetensors-reader.js';
import type { BertConfigJson } from '../../scripts/make-checkpoint.mjs';
import {
  BERT_TENSOR_NAMES,
  TIED_TO,
  WORD_EMBEDDINGS,
  detectEncoderPrefix,
  isHeadTensor,
  layerModuleName,
  layerNormParameters,
  type LayerRole,
} from '../../scripts/bert-tensor-names.mjs';

/** config.json as the fixture script writes it; the reference reads only the standard BERT fields. */
export type BertConfigLike = BertConfigJson & { position_embedding_type?: string };

/** y = x W^T + b with W row-major [outFeatures, inFeatures]. */
export interface ReferenceLinear {
  weight: Float64Array;
  bias: Float64Array;
  outFeatures: number;
  inFeatures: number;
}

export interface ReferenceLayerNorm {
  weight: Float64Array;
  bias: Float64Array;
}

export interface ReferenceLayer {
  query: ReferenceLinear;
  key: ReferenceLinear;
  value: ReferenceLinear;
  attentionOutput: ReferenceLinear;
  attentionLayerNorm: ReferenceLayerNorm;
  intermediate: ReferenceLinear;
  output: ReferenceLinear;
  outputLayerNorm: ReferenceLayerNorm;
}

export interface ReferenceModel {
  config: BertConfigLike;
  hidden: number;
  numHeads: number;
  headDim: number;
  intermediateSize: number;
  eps: number;
  activation: string;
  /** [vocab_size, H] */
  wordEmbeddings: Float64Array;
  /** [max_position_embeddings, H] */
  positionEmbeddings: Float64Array;
  /** [type_vocab_size, H] */
  tokenTypeEmbeddings: Float64Array;
  embeddingLayerNorm: ReferenceLayerNorm;
  layers: ReferenceLayer[];
  /** absent when the checkpoint has no pooler */
  pooler?: ReferenceLinear;
  /** the key prefix found in the checkpoint ('' or e.g. 'bert.') */
  prefix: string;
  /** BertForMaskedLM's head (cls.predictions), when the checkpoint has one */
  maskedLmHead?: ReferenceMaskedLmHead;
}

/** transform (dense, activation, LayerNorm), then the decoder onto the vocabulary. */
export interface ReferenceMaskedLmHead {
  transform: ReferenceLinear;
  layerNorm: ReferenceLayerNorm;
  /** [vocab_size, H]: the word embeddings unless the checkpoint stores its own decoder */
  decoder: ReferenceLinear;
}

// ---------------------------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------------------------

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/sqrt(pi)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1/sqrt(pi)

/**
 * erfc(x) for x >= 2 by the continued fraction
 *   erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
 * evaluated with the modified Lentz method.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let C = f;
  let D = 0;
  for (let n = 1; n < 1000; n++) {
    const a = n / 2;
    D = x + a * D;
    if (D === 0) D = tiny;
    C = x + a / C;
    if (C === 0) C = tiny;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) * ONE_OVER_SQRT_PI) / f;
}

/**
 * erf(x) for |x| < 2.5 by the series without cancellation
 *   erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_{n>=0} 2^n x^(2n+1) / (1*3*...*(2n+1)).
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  const twoX2 = 2 * x2;
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= twoX2 / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** The error function, accurate to ~1e-15 relative. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) return erfSeries(x);
  if (ax >= 6.5) return x > 0 ? 1 : -1;
  const r = 1 - erfcContinuedFraction(ax);
  return x > 0 ? r : -r;
}

/** The complementary error function 1 - erf(x), accurate in relative terms also in the tails. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 2.5) return x > 27.3 ? 0 : erfcContinuedFraction(x);
  if (x <= -2.5) return x < -6.5 ? 2 : 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Exact GELU: x * Phi(x) = x/2 * erfc(-x/sqrt(2)). */
export function geluErf(x: number): number {
  return 0.5 * x * erfc(-x * SQRT_HALF);
}

/** Tanh-approximated GELU (HF 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** The activation function named by config.hidden_act. */
export function activationFunction(name: string): (x: number) => number {
  switch (name) {
    case 'gelu':
    case 'gelu_python':
      return geluErf;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh;
    case 'relu':
      return (x) => (x > 0 ? x : 0);
    case 'silu':
    case 'swish':
      return (x) => x / (1 + Math.exp(-x));
    case 'quick_gelu':
      return (x) => x / (1 + Math.exp(-1.702 * x));
    case 'tanh':
      return Math.tanh;
    default:
      throw new Error(`reference: unsupported hidden_act '${name}'`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------

function detectPrefix(st: SafetensorsFile): string {
  try {
    return detectEncoderPrefix(st.names);
  } catch (error) {
    throw new Error(`reference: ${(error as Error).message}`);
  }
}

/** Load a checkpoint directory (config.json + model.safetensors) as float64. */
export function loadReferenceModel(checkpointDir: string): ReferenceModel {
  const config = JSON.parse(fs.readFileSync(path.join(checkpointDir, 'config.json'), 'utf8')) as BertConfigLike;
  const st = openSafetensors(path.join(checkpointDir, 'model.safetensors'));
  const prefix = detectPrefix(st);

  const H = config.hidden_size;
  const nH = config.num_attention_heads;
  const L = config.num_hidden_layers;
  const I = config.intermediate_size;
  if (!(H > 0 && nH > 0 && H % nH === 0)) throw new Error(`reference: hidden_size ${H} not divisible by num_attention_heads ${nH}`);
  if (config.position_embedding_type && config.position_embedding_type !== 'absolute') {
    throw new Error(`reference: position_embedding_type ${config.position_embedding_type} is not supported`);
  }

  // Tensor names from scripts/bert-tensor-names.json; the head's never carry the encoder's prefix (BertForMaskedLM:
  // bert.* and cls.*).
  const written = (name: string) => (isHeadTensor(name) ? name : prefix + name);
  const tensor = (name: string, shape: number[]): Float64Array => {
    const full = written(name);
    const t = st.read(full);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`reference: ${full} has shape [${t.shape}], expected [${shape}]`);
    }
    return t.data;
  };
  const linear = (name: string, out: number, inp: number): ReferenceLinear => ({
    weight: tensor(`${name}.weight`, [out, inp]),
    bias: tensor(`${name}.bias`, [out]),
    outFeatures: out,
    inFeatures: inp,
  });
  const layerNorm = (name: string): ReferenceLayerNorm => {
    const p = layerNormParameters(!st.has(`${written(name)}.${layerNormParameters(false).weight}`));
    return { weight: tensor(`${name}.${p.weight}`, [H]), bias: tensor(`${name}.${p.bias}`, [H]) };
  };
  const V = config.vocab_size;
  const head = BERT_TENSOR_NAMES.maskedLmHead;
  const decoderName = BERT_TENSOR_NAMES.maskedLmDecoder.decoder.name;
  const maskedLmHead = (wordEmbeddings: Float64Array): ReferenceMaskedLmHead | undefined => {
    if (!st.has(`${head.transform.name}.weight`)) return undefined;
    // An absent decoder is tied: its weight is the word embeddings, its bias the head's output bias.
    const decoderWeight = `${decoderName}.weight`;
    const decoderBias = st.has(`${decoderName}.bias`) ? `${decoderName}.bias` : TIED_TO[`${decoderName}.bias`];
    return {
      transform: linear(head.transform.name, H, H),
      layerNorm: layerNorm(head.layerNorm.name),
      decoder: {
        weight: st.has(decoderWeight) ? tensor(decoderWeight, [V, H]) : wordEmbeddings,
        bias: tensor(decoderBias, [V]),
        outFeatures: V,
        inFeatures: H,
      },
    };
  };

  const layers: ReferenceLayer[] = [];
  for (let i = 0; i < L; i++) {
    const m = (role: LayerRole) => layerModuleName(i, role);
    layers.push({
      query: linear(m('query'), H, H),
      key: linear(m('key'), H, H),
      value: linear(m('value'), H, H),
      attentionOutput: linear(m('attentionOutput'), H, H),
      attentionLayerNorm: layerNorm(m('attentionLayerNorm')),
      intermediate: linear(m('intermediate'), I, H),
      output: linear(m('output'), H, I),
      outputLayerNorm: layerNorm(m('outputLayerNorm')),
    });
  }
  const activation = config.hidden_act ?? 'gelu';
  activationFunction(activation); // validate early
  const embeddings = BERT_TENSOR_NAMES.embeddings;
  const wordEmbeddings = tensor(WORD_EMBEDDINGS, [config.vocab_size, H]);
  const pooler = BERT_TENSOR_NAMES.pooler.dense.name;
  return {
    config,
    hidden: H,
    numHeads: nH,
    headDim: H / nH,
    intermediateSize: I,
    eps: config.layer_norm_eps ?? 1e-12,
    activation,
    wordEmbeddings,
    positionEmbeddings: tensor(`${embeddings.position.name}.weight`, [config.max_position_embeddings, H]),
    tokenTypeEmbeddings: tensor(`${embeddings.tokenType.name}.weight`, [config.type_vocab_size, H]),
    embeddingLayerNorm: layerNorm(embeddings.layerNorm.name),
    layers,
    pooler: st.has(written(`${pooler}.weight`)) ? linear(pooler, H, H) : undefined,
    prefix,
    maskedLmHead: maskedLmHead(wordEmbeddings),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------------------------------

/** out[T, Out] = x[T, In] W^T + b. */
function linearForward(x: Float64Array, T: number, lin: ReferenceLinear): Float64Array {
  const In = lin.inFeatures;
  const Out = lin.outFeatures;
  const W = lin.weight;
  const b = lin.bias;
  const out = new Float64Array(T * Out);
  let t = 0;
  // 4 rows x 2 outputs at a time: 8 accumulators, each loaded x / w element used 2 / 4 times
  for (; t + 3 < T; t += 4) {
    const x0 = t * In;
    const x1 = x0 + In;
    const x2 = x1 + In;
    const x3 = x2 + In;
    let o = 0;
    for (; o + 1 < Out; o += 2) {
      const wa = o * In;
      const wb = wa + In;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let i = 0; i < In; i++) {
        const u = W[wa + i];
        const v = W[wb + i];
        const y0 = x[x0 + i];
        const y1 = x[x1 + i];
        const y2 = x[x2 + i];
        const y3 = x[x3 + i];
        a0 += y0 * u;
        a1 += y1 * u;
        a2 += y2 * u;
        a3 += y3 * u;
        b0 += y0 * v;
        b1 += y1 * v;
        b2 += y2 * v;
        b3 += y3 * v;
      }
      const ba = b[o];
      const bb = b[o + 1];
      out[t * Out + o] = a0 + ba;
      out[(t + 1) * Out + o] = a1 + ba;
      out[(t + 2) * Out + o] = a2 + ba;
      out[(t + 3) * Out + o] = a3 + ba;
      out[t * Out + o + 1] = b0 + bb;
      out[(t + 1) * Out + o + 1] = b1 + bb;
      out[(t + 2) * Out + o + 1] = b2 + bb;
      out[(t + 3) * Out + o + 1] = b3 + bb;
    }
    for (; o < Out; o++) {
      const wo = o * In;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < In; i++) {
        const w = W[wo + i];
        s0 += x[x0 + i] * w;
        s1 += x[x1 + i] * w;
        s2 += x[x2 + i] * w;
        s3 += x[x3 + i] * w;
      }
      const bo = b[o];
      out[t * Out + o] = s0 + bo;
      out[(t + 1) * Out + o] = s1 + bo;
      out[(t + 2) * Out + o] = s2 + bo;
      out[(t + 3) * Out + o] = s3 + bo;
    }
  }
  for (; t < T; t++) {
    const x0 = t * In;
    for (let o = 0; o < Out; o++) {
      const wo = o * In;
      let s0 = 0;
      for (let i = 0; i < In; i++) s0 += x[x0 + i] * W[wo + i];
      out[t * Out + o] = s0 + b[o];
    }
  }
  return out;
}

/** In place: x[t] = LayerNorm(x[t]) with biased variance. */
function layerNormInPlace(x: Float64Array, T: number, H: number, ln: ReferenceLayerNorm, eps: number): void {
  const g = ln.weight;
  const b = ln.bias;
  for (let t = 0; t < T; t++) {
    const o = t * H;
    let mean = 0;
    for (let i = 0; i < H; i++) mean += x[o + i];
    mean /= H;
    let v = 0;
    for (let i = 0; i < H; i++) {
      const d = x[o + i] - mean;
      v += d * d;
    }
    v /= H;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < H; i++) x[o + i] = (x[o + i] - mean) * inv * g[i] + b[i];
  }
}

/** Multi-head scaled dot-product self-attention over one unpadded sentence; returns the context [T, H]. */
function selfAttention(q: Float64Array, k: Float64Array, v: Float64Array, T: number, H: number, nH: number): Float64Array {
  const hd = H / nH;
  const scale = 1 / Math.sqrt(hd);
  const ctx = new Float64Array(T * H);
  const p = new Float64Array(T);
  for (let h = 0; h < nH; h++) {
    const ho = h * hd;
    for (let i = 0; i < T; i++) {
      const qo = i * H + ho;
      let max = -Infinity;
      for (let j = 0; j < T; j++) {
        const ko = j * H + ho;
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[qo + d] * k[ko + d];
        s *= scale;
        p[j] = s;
        if (s > max) max = s;
      }
      let z = 0;
      for (let j = 0; j < T; j++) {
        const e = Math.exp(p[j] - max);
        p[j] = e;
        z += e;
      }
      const co = i * H + ho;
      for (let j = 0; j < T; j++) {
        const w = p[j] / z;
        const vo = j * H + ho;
        for (let d = 0; d < hd; d++) ctx[co + d] += w * v[vo + d];
      }
    }
  }
  return ctx;
}

/**
 * hiddenStates[0] = embedding output (after LayerNorm), hiddenStates[i] = output of layer i; each is a Float64Array
 * of length T*H (row-major [T, H]). One sentence, no padding.
 */
export function referenceHiddenStates(model: ReferenceModel, ids: number[], typeIds?: number[]): Float64Array[] {
  const { hidden: H, config } = model;
  const T = ids.length;
  if (T === 0) throw new Error('reference: empty sentence');
  if (T > config.max_position_embeddings) throw new Error(`reference: ${T} tokens exceed max_position_embeddings ${config.max_position_embeddings}`);
  if (typeIds && typeIds.length !== T) throw new Error('reference: typeIds length differs from ids length');
  const act = activationFunction(model.activation);

  const x = new Float64Array(T * H);
  for (let t = 0; t < T; t++) {
    const id = ids[t];
    const tt = typeIds ? typeIds[t] : 0;
    if (!Number.isInteger(id) || id < 0 || id >= config.vocab_size) throw new Error(`reference: token id ${id} out of range`);
    if (!Number.isInteger(tt) || tt < 0 || tt >= config.type_vocab_size) throw new Error(`reference: token type ${tt} out of range`);
    const wo = id * H;
    const po = t * H;
    const to = tt * H;
    for (let i = 0; i < H; i++) x[t * H + i] = model.wordEmbeddings[wo + i] + model.positionEmbeddings[po + i] + model.tokenTypeEmbeddings[to + i];
  }
  layerNormInPlace(x, T, H, model.embeddingLayerNorm, model.eps);
  const states: Float64Array[] = [x];

  let h: Float64Array = x;
  for (const layer of model.layers) {
    const q = linearForward(h, T, layer.query);
    const k = linearForward(h, T, layer.key);
    const v = linearForward(h, T, layer.value);
    const ctx = selfAttention(q, k, v, T, H, model.numHeads);
    const a = linearForward(ctx, T, layer.attentionOutput);
    for (let i = 0; i < a.length; i++) a[i] += h[i];
    layerNormInPlace(a, T, H, layer.attentionLayerNorm, model.eps);
    const inter = linearForward(a, T, layer.intermediate);
    for (let i = 0; i < inter.length; i++) inter[i] = act(inter[i]);
    const o = linearForward(inter, T, layer.output);
    for (let i = 0; i < o.length; i++) o[i] += a[i];
    layerNormInPlace(o, T, H, layer.outputLayerNorm, model.eps);
    states.push(o);
    h = o;
  }
  return states;
}

/** HF BertPooler output: tanh(W h[0] + b) on the last layer's first token. */
export function referencePoolerOutput(model: ReferenceModel, hiddenStates: Float64Array[]): Float64Array {
  if (!model.pooler) throw new Error('reference: the checkpoint has no pooler');
  const last = hiddenStates[hiddenStates.length - 1];
  const out = linearForward(last.subarray(0, model.hidden), 1, model.pooler);
  for (let i = 0; i < out.length; i++) out[i] = Math.tanh(out[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Pooling (product spec)
// ---------------------------------------------------------------------------------------------------------------

export type PoolingStrategy = 'NONE' | 'REDUCE_MEAN' | 'REDUCE_MAX' | 'REDUCE_MEAN_MAX' | 'CLS_TOKEN' | 'FIRST_TOKEN' | 'SEP_TOKEN' | 'LAST_TOKEN';

export interface ReferencePoolingOptions {
  pooling: PoolingStrategy;
  layers: number[];
  maskClsSep: boolean;
  normalize: boolean;
  /** needed for NONE */
  maxSeqLen?: number;
  clsId: number;
  sepId: number;
}

/** Resolve a layer index against L+1 hidden states: 0 = embeddings, i > 0 = layer i, k < 0 = entry L+1+k. */
export function resolveLayerIndex(index: number, numStates: number): number {
  if (!Number.isInteger(index)) throw new Error(`reference: layer index ${index} is not an integer`);
  const r = index < 0 ? numStates + index : index;
  if (r < 0 || r >= numStates) throw new Error(`reference: layer index ${index} out of range for ${numStates - 1} layers`);
  return r;
}

function l2NormalizeInPlace(v: Float64Array, start: number, end: number): void {
  let s = 0;
  for (let i = start; i < end; i++) s += v[i] * v[i];
  if (s === 0) return;
  const inv = 1 / Math.sqrt(s);
  for (let i = start; i < end; i++) v[i] *= inv;
}

/** The expected output vector for one sentence (for NONE: maxSeqLen*width, row-major). */
export function referencePool(hiddenStates: Float64Array[], ids: number[], hidden: number, options: ReferencePoolingOptions): Float64Array {
  const { pooling, layers, maskClsSep, normalize } = options;
  const T = ids.length;
  const H = hidden;
  if (T === 0) throw new Error('reference: empty sentence');
  if (!layers || layers.length === 0) throw new Error('reference: no layers to pool');
  const resolved = layers.map((l) => resolveLayerIndex(l, hiddenStates.length));
  for (const r of resolved) {
    if (hiddenStates[r].length !== T * H) throw new Error(`reference: hidden state ${r} has ${hiddenStates[r].length} values, expected ${T}x${H}`);
  }
  const masked = (t: number) => maskClsSep && (ids[t] === options.clsId || ids[t] === options.sepId);
  const nL = resolved.length;

  if (pooling === 'NONE') {
    const maxSeqLen = options.maxSeqLen;
    if (maxSeqLen === undefined || !Number.isInteger(maxSeqLen) || maxSeqLen <= 0) throw new Error('reference: NONE pooling needs maxSeqLen');
    if (T > maxSeqLen) throw new Error(`reference: ${T} tokens exceed maxSeqLen ${maxSeqLen}`);
    const width = H * nL;
    const out = new Float64Array(maxSeqLen * width);
    for (let t = 0; t < T; t++) {
      if (masked(t)) continue;
      for (let li = 0; li < nL; li++) {
        const src = hiddenStates[resolved[li]];
        for (let i = 0; i < H; i++) out[t * width + li * H + i] = src[t * H + i];
      }
      if (normalize) l2NormalizeInPlace(out, t * width, (t + 1) * width);
    }
    return out;
  }

  // REDUCE_MEAN_MAX over several layers is [mean of each layer, then max of each layer], as bert-as-service
  // pools the layers joined
  const out = new Float64Array((pooling === 'REDUCE_MEAN_MAX' ? 2 : 1) * H * nL);
  const tokens: number[] = [];
  for (let t = 0; t < T; t++) if (!masked(t)) tokens.push(t);

  for (let li = 0; li < nL; li++) {
    const src = hiddenStates[resolved[li]];
    const base = li * H;
    switch (pooling) {
      case 'REDUCE_MEAN':
      case 'REDUCE_MAX':
      case 'REDUCE_MEAN_MAX': {
        if (tokens.length === 0) break; // zeros
        const doMean = pooling !== 'REDUCE_MAX';
        const doMax = pooling !== 'REDUCE_MEAN';
        const maxOff = pooling === 'REDUCE_MEAN_MAX' ? nL * H : 0;
        for (let i = 0; i < H; i++) {
          let s = 0;
          let m = -Infinity;
          for (const t of tokens) {
            const val = src[t * H + i];
            s += val;
            if (val > m) m = val;
          }
          if (doMean) out[base + i] = s / tokens.length;
          if (doMax) out[base + maxOff + i] = m;
        }
        break;
      }
      case 'CLS_TOKEN':
      case 'FIRST_TOKEN':
        for (let i = 0; i < H; i++) out[base + i] = src[i];
        break;
      case 'SEP_TOKEN':
      case 'LAST_TOKEN':
        for (let i = 0; i < H; i++) out[base + i] = src[(T - 1) * H + i];
        break;
      default:
        throw new Error(`reference: unknown pooling strategy ${String(pooling)}`);
    }
  }
  if (normalize) l2NormalizeInPlace(out, 0, out.length);
  return out;
}

/** Convenience: hidden states + pooling for one sentence. */
export function referenceEncode(model: ReferenceModel, ids: number[], options: ReferencePoolingOptions, typeIds?: number[]): Float64Array {
  return referencePool(referenceHiddenStates(model, ids, typeIds), ids, model.hidden, options);
}

/** The masked-LM head's logits at one position of the last hidden state [T, H]: transform, activation, LayerNorm, decoder. */
export function referenceMaskedLmLogits(model: ReferenceModel, lastHidden: Float64Array, position: number): Float64Array {
  const head = model.maskedLmHead;
  if (!head) throw new Error('reference: the checkpoint has no masked-LM head');
  const H = model.hidden;
  const x = linearForward(lastHidden.subarray(position * H, (position + 1) * H), 1, head.transform);
  const act = activationFunction(model.activation);
  for (let i = 0; i < H; i++) x[i] = act(x[i]);
  layerNormInPlace(x, 1, H, head.layerNorm, model.eps);
  return linearForward(x, 1, head.decoder);
}

/** log(sum(exp(values))), shifted by the largest value so that nothing overflows. */
export function logSumExp(values: Float64Array): number {
  let max = -Infinity;
  for (const value of values) max = Math.max(max, value);
  let sum = 0;
  for (const value of values) sum += Math.exp(value - max);
  return max + Math.log(sum);
}

/** Log-probabilities over the vocabulary at one position (the head's logits, log-softmaxed in float64). */
export function referenceMaskedLmLogProbs(model: ReferenceModel, lastHidden: Float64Array, position: number): Float64Array {
  const logits = referenceMaskedLmLogits(model, lastHidden, position);
  const logSum = logSumExp(logits);
  return logits.map((value) => value - logSum);
}
