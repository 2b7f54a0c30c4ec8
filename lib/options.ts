/** Encoder options: their types, defaults, and validation before anything reaches C++. */
import os from 'node:os';
import { assertBoolean, checkInteger, checkOneOf, checkPlainObject, expectationMessage, rejectUnknownOptions } from './validation.js';

export const POOLING_STRATEGIES = [
  'NONE',
  'REDUCE_MEAN',
  'REDUCE_MAX',
  'REDUCE_MEAN_MAX',
  'CLS_TOKEN',
  'FIRST_TOKEN',
  'SEP_TOKEN',
  'LAST_TOKEN',
] as const;
export type PoolingStrategy = (typeof POOLING_STRATEGIES)[number];

export const DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type Dtype = (typeof DTYPES)[number];

/** How token vectors become one vector; set at load, and overridable per encode() call. */
export interface PoolingOptions {
  /** default: the model's sentence-transformers pooling, else REDUCE_MEAN (bert-as-service) */
  pooling?: PoolingStrategy;
  /** hidden states to pool, concatenated in this order: -1 last layer, 0 embedding output. Default [-2], or [-1] for sentence-transformers models */
  layers?: number[];
  /** L2-normalize each vector (each token vector for NONE) */
  normalize?: boolean;
  /** keep [CLS]/[SEP] out of mean/max pooling (attention still sees them) */
  maskClsSep?: boolean;
}

export interface EncoderOptions extends PoolingOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N' */
  device?: string;
  dtype?: Dtype;
  /** tokens per sentence including [CLS]/[SEP]; longer input is truncated. Default: the model's max_seq_length, else 25 */
  maxSeqLen?: number;
  /** intra-op (OpenMP) threads of the model's worker thread; default 1 */
  threads?: number;
  /** OpenBLAS threads (process-wide) when libtorch's BLAS is OpenBLAS; default: the machine's cores */
  blasThreads?: number;
  /** most sentences in one forward pass */
  maxBatchSize?: number;
}

export type ResolvedPoolingOptions = Required<PoolingOptions>;
export type ResolvedEncoderOptions = Required<EncoderOptions>;

export const POOLING_OPTION_NAMES: readonly (keyof PoolingOptions)[] = ['pooling', 'layers', 'normalize', 'maskClsSep'];
const ENCODER_OPTION_NAMES: readonly (keyof EncoderOptions)[] = [
  'device',
  ...POOLING_OPTION_NAMES,
  'maxSeqLen',
  'dtype',
  'threads',
  'blasThreads',
  'maxBatchSize',
];

/**
 * Measured on 2 cores (BENCHMARKS.md, bench/cpu-threads.mjs): matrix products run in OpenBLAS, so
 * its threads carry the load, and OpenMP threads beside them only fight over the same cores.
 */
const DEFAULT_THREADS = { intraOp: 1, blas: os.availableParallelism() };

export interface ModelLimits {
  numLayers: number;
  maxPositions: number;
}

/** Pooling options from `options`, falling back to `defaults` for those not given. */
export function resolvePoolingOptions(
  options: Record<string, unknown>,
  numLayers: number,
  defaults: Partial<ResolvedPoolingOptions>,
): ResolvedPoolingOptions {
  const layers = options.layers ?? defaults.layers ?? [-2];
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new TypeError(expectationMessage('layers', 'non-empty array of integers', layers));
  }
  layers.forEach((layer, i) => checkInteger(`layers[${i}]`, layer, -(numLayers + 1), numLayers));
  const normalize = options.normalize ?? defaults.normalize ?? false;
  assertBoolean('normalize', normalize);
  const maskClsSep = options.maskClsSep ?? defaults.maskClsSep ?? false;
  assertBoolean('maskClsSep', maskClsSep);
  return {
    pooling: checkOneOf('pooling', options.pooling ?? defaults.pooling ?? 'REDUCE_MEAN', POOLING_STRATEGIES),
    layers: [...(layers as number[])],
    normalize,
    maskClsSep,
  };
}

export function resolveEncoderOptions(
  input: unknown,
  limits: ModelLimits,
  defaults: Partial<ResolvedEncoderOptions>,
): ResolvedEncoderOptions {
  const options = checkPlainObject('options', input ?? {});
  rejectUnknownOptions('Encoder.load', options, ENCODER_OPTION_NAMES);

  const device = options.device ?? 'cpu';
  if (typeof device !== 'string') throw new TypeError(expectationMessage('device', "'cpu', 'cuda' or 'cuda:N'", device));
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new RangeError(expectationMessage('device', "'cpu', 'cuda' or 'cuda:N'", device));
  const defaultMaxSeqLen = Math.min(defaults.maxSeqLen ?? 25, limits.maxPositions);
  const dtype = checkOneOf('dtype', options.dtype ?? 'float32', DTYPES);
  if (dtype === 'float16' && device === 'cpu') {
    // libtorch has no float16 matrix or LayerNorm kernels on the CPU.
    throw new RangeError(`${expectationMessage('dtype', "'float32' or 'bfloat16' on device 'cpu'", dtype)}; float16 needs a CUDA device`);
  }

  return {
    device,
    ...resolvePoolingOptions(options, limits.numLayers, defaults),
    maxSeqLen: checkInteger('maxSeqLen', options.maxSeqLen ?? defaultMaxSeqLen, 2, limits.maxPositions),
    dtype,
    threads: checkInteger('threads', options.threads ?? DEFAULT_THREADS.intraOp, 1, 1024),
    blasThreads: checkInteger('blasThreads', options.blasThreads ?? DEFAULT_THREADS.blas, 1, 1024),
    maxBatchSize: checkInteger('maxBatchSize', options.maxBatchSize ?? 32, 1),
  };
}

/** A layer index as the native side wants it: 0 = embedding output, i = output of layer i. */
export function absoluteLayer(layer: number, numLayers: number): number {
  return layer < 0 ? numLayers + 1 + layer : layer;
}
