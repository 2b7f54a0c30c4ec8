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

export const DTYPES = ['float32', 'float16', 'bfloat16', 'int8'] as const;
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
  /** 'cpu' (default), 'cuda' or 'cuda:N'; shorthand for `devices: [device]` */
  device?: string;
  /** devices the model replicas are placed on, round-robin (bert-as-service's device_map) */
  devices?: string[];
  /** model replicas, each with its own native worker thread; default one per device */
  workers?: number;
  dtype?: Dtype;
  /** tokens per sentence including [CLS]/[SEP]; longer input is truncated. Default: the model's max_seq_length, else 25 */
  maxSeqLen?: number;
  /** intra-op (OpenMP) threads of each worker thread; default 1 */
  threads?: number;
  /** OpenBLAS threads (process-wide) when libtorch's BLAS is OpenBLAS; default: cores / CPU workers */
  blasThreads?: number;
  /** most sentences in one forward pass */
  maxBatchSize?: number;
  /** most padded tokens (sentences × longest length) in one forward pass */
  maxBatchTokens?: number;
  /** calls with at most this many sentences jump ahead of larger ones */
  priorityBatchSize?: number;
  /** beyond this many unfinished sentences, encode() rejects with ERR_OVERLOADED */
  maxQueuedSentences?: number;
}

export type ResolvedPoolingOptions = Required<PoolingOptions>;
export type ResolvedEncoderOptions = Omit<Required<EncoderOptions>, 'device'>;

export const POOLING_OPTION_NAMES: readonly (keyof PoolingOptions)[] = ['pooling', 'layers', 'normalize', 'maskClsSep'];
const ENCODER_OPTION_NAMES: readonly (keyof EncoderOptions)[] = [
  'device',
  'devices',
  'workers',
  ...POOLING_OPTION_NAMES,
  'maxSeqLen',
  'dtype',
  'threads',
  'blasThreads',
  'maxBatchSize',
  'maxBatchTokens',
  'priorityBatchSize',
  'maxQueuedSentences',
];

const CORES = os.availableParallelism();
const DEFAULT_MAX_BATCH_SIZE = 32;
/** padded tokens per forward pass: 32 sentences of 256 tokens */
const DEFAULT_MAX_BATCH_TOKENS = 8192;

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

export interface CpuKernels {
  /** the addon runs float32 linear layers on the CPU with oneDNN */
  oneDnnLinear: boolean;
  /** and bfloat16 ones on oneDNN's bf16 kernels (the CPU has avx512_bf16 or AMX) */
  oneDnnBf16Linear: boolean;
}

export function resolveEncoderOptions(
  input: unknown,
  limits: ModelLimits,
  defaults: Partial<ResolvedEncoderOptions>,
  cpu: CpuKernels = { oneDnnLinear: false, oneDnnBf16Linear: false },
): ResolvedEncoderOptions {
  const options = checkPlainObject('options', input ?? {});
  rejectUnknownOptions('Encoder.load', options, ENCODER_OPTION_NAMES);

  const devices = resolveDevices(options.device, options.devices);
  const workers = checkInteger('workers', options.workers ?? devices.length, 1, 1024);
  const defaultMaxSeqLen = Math.min(defaults.maxSeqLen ?? 25, limits.maxPositions);
  const dtype = checkOneOf('dtype', options.dtype ?? 'float32', DTYPES);
  if (dtype === 'int8' && devices.some((device) => device !== 'cpu')) {
    // Dynamic quantization runs on the CPU's quantized engines; GPUs have float16.
    throw new RangeError(`${expectationMessage('dtype', "'float32', 'float16' or 'bfloat16' on a CUDA device", dtype)}; int8 runs on the CPU`);
  }
  if (dtype === 'float16' && devices.includes('cpu')) {
    // libtorch has no float16 matrix or LayerNorm kernels on the CPU.
    throw new RangeError(`${expectationMessage('dtype', "'float32' or 'bfloat16' on device 'cpu'", dtype)}; float16 needs a CUDA device`);
  }

  const maxSeqLen = checkInteger('maxSeqLen', options.maxSeqLen ?? defaultMaxSeqLen, 2, limits.maxPositions);
  const maxBatchSize = checkInteger('maxBatchSize', options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE, 1);
  // int8's quantized engine is oneDNN too, on the intra-op threads, and so are bfloat16's linear
  // layers where the CPU has bf16 instructions (elsewhere torch's bfloat16 ops: the BLAS defaults).
  const oneDnnDtype = dtype === 'float32' || dtype === 'int8' || (dtype === 'bfloat16' && cpu.oneDnnBf16Linear);
  const threadDefaults = defaultThreads(devices, workers, oneDnnDtype && cpu.oneDnnLinear);
  return {
    devices,
    workers,
    ...resolvePoolingOptions(options, limits.numLayers, defaults),
    maxSeqLen,
    dtype,
    threads: checkInteger('threads', options.threads ?? threadDefaults.threads, 1, 1024),
    blasThreads: checkInteger('blasThreads', options.blasThreads ?? threadDefaults.blasThreads, 1, 1024),
    maxBatchSize,
    maxBatchTokens: checkInteger('maxBatchTokens', options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS, 1),
    priorityBatchSize: checkInteger('priorityBatchSize', options.priorityBatchSize ?? 16, 0),
    maxQueuedSentences: checkInteger('maxQueuedSentences', options.maxQueuedSentences ?? 1_000_000, 1),
  };
}

const DEVICE_EXPECTATION = "'cpu', 'cuda' or 'cuda:N'";

function checkDevice(field: string, device: unknown): string {
  if (typeof device !== 'string') throw new TypeError(expectationMessage(field, DEVICE_EXPECTATION, device));
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new RangeError(expectationMessage(field, DEVICE_EXPECTATION, device));
  return device;
}

function resolveDevices(device: unknown, devices: unknown): string[] {
  if (device !== undefined && devices !== undefined) {
    throw new TypeError(`Expected either device or devices for Encoder.load but received both (${JSON.stringify(device)} and ${JSON.stringify(devices)})`);
  }
  if (devices === undefined) return [checkDevice('device', device ?? 'cpu')];
  if (!Array.isArray(devices) || devices.length === 0) {
    throw new TypeError(expectationMessage('devices', `non-empty array of ${DEVICE_EXPECTATION}`, devices));
  }
  return devices.map((entry, i) => checkDevice(`devices[${i}]`, entry));
}

/** The device of each replica: round-robin over the devices. */
export function replicaDevices(options: Pick<ResolvedEncoderOptions, 'devices' | 'workers'>): string[] {
  return Array.from({ length: options.workers }, (_, i) => options.devices[i % options.devices.length]);
}

/**
 * Each CPU worker gets an equal share of the cores, given to whatever runs the linear layers
 * (measured on 2 cores, BENCHMARKS.md "CPU speed"): with oneDNN, its OpenMP (intra-op) threads,
 * OpenBLAS then only doing the small attention products on one thread; without it, OpenBLAS,
 * whose threads (process-wide) carry the load while extra OpenMP threads only fight for the cores.
 */
function defaultThreads(devices: string[], workers: number, oneDnnLinear: boolean): { threads: number; blasThreads: number } {
  const cpuWorkers = replicaDevices({ devices, workers }).filter((device) => device === 'cpu').length;
  const share = Math.max(1, Math.floor(CORES / Math.max(1, cpuWorkers)));
  return oneDnnLinear ? { threads: share, blasThreads: 1 } : { threads: 1, blasThreads: share };
}

/** A layer index as the native side wants it: 0 = embedding output, i = output of layer i. */
export function absoluteLayer(layer: number, numLayers: number): number {
  return layer < 0 ? numLayers + 1 + layer : layer;
}
