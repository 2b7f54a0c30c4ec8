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
import { ENCODER_OPTIONS, POOLING_OPTIONS, type DeclaredOptions } from './option-declarations.js';

/** How token vectors become one vector; set at load, and overridable per encode() call (option-declarations.ts: POOLING_OPTIONS). */
export type PoolingOptions = DeclaredOptions<(typeof POOLING_OPTIONS)[number]>;

/** Encoder.load's options: each declared once, with its type, check, default and help, in option-declarations.ts (README's option table). */
export type EncoderOptions = DeclaredOptions<(typeof ENCODER_OPTIONS)[number]>;

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
