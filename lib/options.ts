/** Encoder options: their types, defaults, and validation before anything reaches C++. */
import os from 'node:os';
import {
  checkDevice,
  checkOption,
  ENCODER_OPTION_NAMES,
  MODEL_FILE_OPTIONS,
  type Dtype,
  type OptionContext,
  type PoolingStrategy,
} from './option-declarations.js';
import { checkPlainObject, expectationMessage, rejectUnknownOptions, namingError } from './validation.js';

export { DTYPES, POOLING_OPTION_NAMES, POOLING_STRATEGIES, type Dtype, type PoolingStrategy } from './option-declarations.js';

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

/** Encoder.load's options; each is declared, with its check, default and help, in option-declarations.ts. */
export interface EncoderOptions extends PoolingOptions {
  /** 'cpu' (default), 'cuda' or 'cuda:N'; shorthand for `devices: [device]` */
  device?: string;
  /** devices the model replicas are placed on, round-robin (bert-as-service's device_map) */
  devices?: string[];
  /** model replicas, each with its own native worker thread; default one per device */
  workers?: number;
  dtype?: Dtype;
  /** tokens per sentence including [CLS]/[SEP]; longer input is truncated; null: each batch as long as its longest sentence. Default: the model's max_seq_length, else 25 */
  maxSeqLen?: number | null;
  /** with maxSeqLen null, NONE's token vectors padded to max_position_embeddings (default: to the call's longest sentence) */
  fixedEmbedLength?: boolean;
  /** add [CLS]/[SEP] (default true) */
  specialTokens?: boolean;
  /** keep case and accents whatever the checkpoint's tokenizer says */
  casedTokenization?: boolean;
  /** CUDA: the share of each device's memory the caching allocator may take */
  gpuMemoryFraction?: number;
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
  /** a fine-tuned TensorFlow checkpoint's directory (bert-as-service's tuned_model_dir) */
  tunedModelDir?: string;
  /** the TensorFlow checkpoint's name (default 'bert_model.ckpt') */
  ckptName?: string;
  /** a TensorFlow checkpoint's config file (default 'bert_config.json') */
  configName?: string;
}

export type ResolvedPoolingOptions = Required<PoolingOptions>;
/** The options a loaded encoder runs with; the model-file options stay with the files they chose. */
export type ResolvedEncoderOptions = Omit<Required<EncoderOptions>, 'device' | 'gpuMemoryFraction' | 'tunedModelDir' | 'ckptName' | 'configName' | 'casedTokenization'> & {
  /** null: no limit */
  gpuMemoryFraction: number | null;
  casedTokenization: boolean;
};

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
  const context: OptionContext = { numLayers, maxPositions: Infinity };
  return {
    pooling: checkOption('pooling', options.pooling ?? defaults.pooling ?? 'REDUCE_MEAN', context) as PoolingStrategy,
    layers: checkOption('layers', options.layers ?? defaults.layers ?? [-2], context) as number[],
    normalize: checkOption('normalize', options.normalize ?? defaults.normalize ?? false, context) as boolean,
    maskClsSep: checkOption('maskClsSep', options.maskClsSep ?? defaults.maskClsSep ?? false, context) as boolean,
  };
}

export interface CpuKernels {
  /** the addon runs float32 linear layers on the CPU with oneDNN */
  oneDnnLinear: boolean;
  /** and bfloat16 ones on oneDNN's bf16 kernels (the CPU has avx512_bf16 or AMX) */
  oneDnnBf16Linear: boolean;
}

/** The model-file options (read before the model's config, which they choose), checked, with their defaults. */
export interface ModelFileOptions {
  tunedModelDir?: string;
  ckptName: string;
  configName: string;
}

/** bert-as-service's defaults: its released checkpoints' file names. */
export const DEFAULT_MODEL_FILE_OPTIONS: ModelFileOptions = { ckptName: 'bert_model.ckpt', configName: 'bert_config.json' };

/** Checked by describeModel before anything else: they choose the files the other options are checked against. */
export function resolveModelFileOptions(options: Record<string, unknown>): ModelFileOptions {
  const context: OptionContext = { numLayers: 0, maxPositions: 0 };
  const given = (name: (typeof MODEL_FILE_OPTIONS)[number]['name']): string | undefined =>
    options[name] === undefined ? undefined : (checkOption(name, options[name], context) as string);
  return {
    tunedModelDir: given('tunedModelDir'),
    ckptName: given('ckptName') ?? DEFAULT_MODEL_FILE_OPTIONS.ckptName,
    configName: given('configName') ?? DEFAULT_MODEL_FILE_OPTIONS.configName,
  };
}

export function resolveEncoderOptions(
  input: unknown,
  limits: ModelLimits,
  defaults: Partial<ResolvedEncoderOptions>,
  cpu: CpuKernels = { oneDnnLinear: false, oneDnnBf16Linear: false },
): ResolvedEncoderOptions {
  const options = checkPlainObject('options', input ?? {});
  // The model-file options were resolved already: they chose the model whose limits these are.
  rejectUnknownOptions('Encoder.load', options, ENCODER_OPTION_NAMES);
  const context: OptionContext = limits;
  const given = <T>(name: Parameters<typeof checkOption>[0], fallback: T): T => checkOption(name, options[name] ?? fallback, context) as T;

  const devices = resolveDevices(options.device, options.devices);
  const workers = given('workers', devices.length);
  const dtype = given<Dtype>('dtype', 'float32');
  if (dtype === 'int8' && devices.some((device) => device !== 'cpu')) {
    // Dynamic quantization runs on the CPU's quantized engines; GPUs have float16.
    throw namingError((message) => new RangeError(message), (n) => `${expectationMessage(n.field('dtype'), "'float32', 'float16' or 'bfloat16' on a CUDA device", dtype)}; int8 runs on the CPU`);
  }
  if (dtype === 'float16' && devices.includes('cpu')) {
    // libtorch has no float16 matrix or LayerNorm kernels on the CPU.
    throw namingError((message) => new RangeError(message), (n) => `${expectationMessage(n.field('dtype'), "'float32' or 'bfloat16' on device 'cpu'", dtype)}; float16 needs a CUDA device`);
  }
  const gpuMemoryFraction = options.gpuMemoryFraction === undefined ? null : (checkOption('gpuMemoryFraction', options.gpuMemoryFraction, context) as number);
  if (gpuMemoryFraction !== null && !devices.some((device) => device !== 'cpu')) {
    throw namingError(
      (message) => new RangeError(message),
      (n) => `${expectationMessage(n.field('devices'), `a CUDA device among them for ${n.field('gpuMemoryFraction')}`, devices)}; the CPU has no memory fraction`,
    );
  }
  // null (bert-as-service's NONE) is a value here, not a missing one.
  const maxSeqLen = options.maxSeqLen === undefined ? Math.min(defaults.maxSeqLen ?? 25, limits.maxPositions) : given<number | null>('maxSeqLen', null);
  // int8's quantized engine is oneDNN too, on the intra-op threads, and so are bfloat16's linear
  // layers where the CPU has bf16 instructions (elsewhere torch's bfloat16 ops: the BLAS defaults).
  const oneDnnDtype = dtype === 'float32' || dtype === 'int8' || (dtype === 'bfloat16' && cpu.oneDnnBf16Linear);
  const threadDefaults = defaultThreads(devices, workers, oneDnnDtype && cpu.oneDnnLinear);
  return {
    devices,
    workers,
    ...resolvePoolingOptions(options, limits.numLayers, defaults),
    maxSeqLen,
    fixedEmbedLength: given('fixedEmbedLength', false),
    specialTokens: given('specialTokens', true),
    casedTokenization: given('casedTokenization', false),
    dtype,
    gpuMemoryFraction,
    threads: given('threads', threadDefaults.threads),
    blasThreads: given('blasThreads', threadDefaults.blasThreads),
    maxBatchSize: given('maxBatchSize', DEFAULT_MAX_BATCH_SIZE),
    maxBatchTokens: given('maxBatchTokens', DEFAULT_MAX_BATCH_TOKENS),
    priorityBatchSize: given('priorityBatchSize', 16),
    maxQueuedSentences: given('maxQueuedSentences', 1_000_000),
  };
}

function resolveDevices(device: unknown, devices: unknown): string[] {
  if (device !== undefined && devices !== undefined) {
    throw new TypeError(`Expected either device or devices for Encoder.load but received both (${JSON.stringify(device)} and ${JSON.stringify(devices)})`);
  }
  const context: OptionContext = { numLayers: 0, maxPositions: 0 };
  if (devices === undefined) return [checkDevice('device', device ?? 'cpu')];
  return checkOption('devices', devices, context) as string[];
}

/** The device of each replica: round-robin over the devices. */
export function replicaDevices(options: Pick<ResolvedEncoderOptions, 'devices' | 'workers'>): string[] {
  return Array.from({ length: options.workers }, (_, i) => options.devices[i % options.devices.length]);
}

/** Tokens a sentence may keep: maxSeqLen, or without it the model's max_position_embeddings. */
export function truncationLength(options: Pick<ResolvedEncoderOptions, 'maxSeqLen'>, maxPositions: number): number {
  return options.maxSeqLen ?? maxPositions;
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
