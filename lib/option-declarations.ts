/**
 * Every Encoder option declared once: its name, CLI flag (and bert-as-service's spelling of it),
 * type and range check, default and help. Encoder.load's validation (options.ts), the commands'
 * flags (cli/encoder-flags.ts) and README's option table (option-table.ts) are all read from here.
 */
import { assertBoolean, checkInteger, checkOneOf, fieldError } from './validation.js';

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

/** What a check may depend on besides the value: the model's sizes. */
export interface OptionContext {
  numLayers: number;
  maxPositions: number;
}

/** How a flag's text becomes the option's value. */
export type FlagValue =
  | { kind: 'switch' } // --normalize → true
  | { kind: 'negated-switch' } // --no-special-token → false
  | { kind: 'integer'; none?: true } // --max-seq-len 64, or NONE → null
  | { kind: 'integers' } // --layers -4 -3
  | { kind: 'number' }
  | { kind: 'seconds' } // a positive number

  | { kind: 'text' }
  | { kind: 'texts' }
  | { kind: 'choice'; choices: readonly string[] };

export interface FlagDeclaration {
  /** the long flag with its value placeholder, as commander takes it: '--max-seq-len <n|NONE>' */
  spec: string;
  value: FlagValue;
  /** other spellings (bert-as-service's), hidden from --help */
  aliases?: string[];
  /** only `serve` has it (the other commands have no queue to bound) */
  serveOnly?: true;
  /** the environment variable that gives it when the flag is absent */
  env?: string;
  /** commander's default, for flags whose default is a plain value */
  defaultValue?: unknown;
}

export interface OptionDeclaration {
  name: string;
  flag?: FlagDeclaration;
  /** the type and range, for README; the check gives the same words in its errors */
  type: string;
  /** the default, for README (some depend on the model or on other options: options.ts computes those) */
  defaultText: string;
  help: string;
  /** the value checked and returned; undefined is never passed (defaults are applied before) */
  check(value: unknown, context: OptionContext): unknown;
}

const DEVICE_EXPECTATION = "'cpu', 'cuda' or 'cuda:N'";

export function checkDevice(field: string, device: unknown): string {
  if (typeof device !== 'string') throw fieldError(TypeError, field, DEVICE_EXPECTATION, device);
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw fieldError(RangeError, field, DEVICE_EXPECTATION, device);
  return device;
}

function checkDevices(field: string, devices: unknown): string[] {
  if (!Array.isArray(devices) || devices.length === 0) throw fieldError(TypeError, field, `non-empty array of ${DEVICE_EXPECTATION}`, devices);
  return devices.map((entry, i) => checkDevice(`${field}[${i}]`, entry));
}

function checkLayers(field: string, layers: unknown, numLayers: number): number[] {
  if (!Array.isArray(layers) || layers.length === 0) throw fieldError(TypeError, field, 'non-empty array of integers', layers);
  layers.forEach((layer, i) => checkInteger(`${field}[${i}]`, layer, -(numLayers + 1), numLayers));
  return [...(layers as number[])];
}

function checkBoolean(field: string, value: unknown): boolean {
  assertBoolean(field, value);
  return value;
}

/** A file or directory name: a non-empty string without NUL. */
function checkPathText(field: string, value: unknown): string {
  if (typeof value !== 'string') throw fieldError(TypeError, field, 'non-empty string', value);
  if (value.length === 0 || value.includes('\0')) throw fieldError(RangeError, field, 'non-empty string without NUL', value);
  return value;
}

function checkFraction(field: string, value: unknown): number {
  const expected = 'number greater than 0 and at most 1';
  if (typeof value !== 'number' || Number.isNaN(value)) throw fieldError(TypeError, field, expected, value);
  if (!(value > 0 && value <= 1)) throw fieldError(RangeError, field, expected, value);
  return value;
}

const integer = (name: string, minimum: number, maximum = Infinity) => (value: unknown) => checkInteger(name, value, minimum, maximum);

/** The options that shape pooling: set at load, and overridable per encode() call. */
export const POOLING_OPTIONS = [
  {
    name: 'pooling',
    flag: { spec: '--pooling <strategy>', value: { kind: 'choice', choices: POOLING_STRATEGIES }, aliases: ['--pooling-strategy'] },
    type: POOLING_STRATEGIES.map((s) => `\`${s}\``).join(', '),
    defaultText:
      "the model's sentence-transformers pooling (`1_Pooling/config.json`: `pooling_mode` or the `pooling_mode_*` flags; one that no strategy reproduces, such as `weightedmean` or max + mean, is refused with `ERR_MODEL_CONFIG` unless `pooling` is given), else `REDUCE_MEAN`",
    help:
      'how token vectors become one vector: REDUCE_MEAN_MAX over several layers is every layer\'s mean, then every layer\'s max (as bert-as-service pools the joined layers); CLS_TOKEN/FIRST_TOKEN, SEP_TOKEN/LAST_TOKEN (the last real token); NONE returns the token vectors',
    check: (value) => checkOneOf('pooling', value, POOLING_STRATEGIES),
  },
  {
    name: 'layers',
    flag: { spec: '--layers <index...>', value: { kind: 'integers' }, aliases: ['--pooling-layer'] },
    type: 'non-empty array of integers from -(layers+1) to layers',
    defaultText: '`[-2]` (`[-1]` for sentence-transformers models)',
    help: 'hidden states to pool, concatenated in this order: -1 the last layer, 0 the embedding output',
    check: (value, context) => checkLayers('layers', value, context.numLayers),
  },
  {
    name: 'normalize',
    flag: { spec: '--normalize', value: { kind: 'switch' } },
    type: 'boolean',
    defaultText: '`true` when modules.json has a Normalize module, else `false`',
    help: 'L2-normalize each vector (each token vector for NONE)',
    check: (value) => checkBoolean('normalize', value),
  },
  {
    name: 'maskClsSep',
    flag: { spec: '--mask-cls-sep', value: { kind: 'switch' } },
    type: 'boolean',
    defaultText: '`false`',
    help: 'keep [CLS]/[SEP] out of mean/max pooling; attention still sees them',
    check: (value) => checkBoolean('maskClsSep', value),
  },
] as const satisfies readonly OptionDeclaration[];

/** Which files of the model directory to read (bert-as-service's -tuned_model_dir, -ckpt_name, -config_name). */
export const MODEL_FILE_OPTIONS = [
  {
    name: 'tunedModelDir',
    flag: { spec: '--tuned-model-dir <dir>', value: { kind: 'text' } },
    type: 'directory path',
    defaultText: 'none',
    help: "a fine-tuned TensorFlow checkpoint's directory: the checkpoint is read from here, the config and the vocabulary from the model directory (as bert-as-service's graph.py)",
    check: (value) => checkPathText('tunedModelDir', value),
  },
  {
    name: 'ckptName',
    flag: { spec: '--ckpt-name <name>', value: { kind: 'text' } },
    type: 'file name prefix',
    defaultText: "`'bert_model.ckpt'`",
    help: "the TensorFlow checkpoint's name: <name>.index and <name>.data-*",
    check: (value) => checkPathText('ckptName', value),
  },
  {
    name: 'configName',
    flag: { spec: '--config-name <name>', value: { kind: 'text' } },
    type: 'file name',
    defaultText: "`'bert_config.json'`",
    help: "a TensorFlow checkpoint's config file",
    check: (value) => checkPathText('configName', value),
  },
] as const satisfies readonly OptionDeclaration[];

/** Every Encoder.load option, in the order README lists them. */
export const ENCODER_OPTIONS = [
  {
    name: 'device',
    flag: { spec: '--device <device>', value: { kind: 'text' } },
    type: DEVICE_EXPECTATION,
    defaultText: "`'cpu'`",
    help: 'shorthand for devices: [device]',
    check: (value) => checkDevice('device', value),
  },
  {
    name: 'devices',
    flag: { spec: '--devices <device...>', value: { kind: 'texts' }, aliases: ['--device-map'] },
    type: `non-empty array of ${DEVICE_EXPECTATION}`,
    defaultText: "`['cpu']`",
    help: "devices the workers are placed on, round-robin (bert-as-service's device_map; on the command line a bare GPU number N means 'cuda:N')",
    check: (value) => checkDevices('devices', value),
  },
  {
    name: 'workers',
    flag: { spec: '--workers <n>', value: { kind: 'integer' }, aliases: ['--num-worker'] },
    type: 'integer from 1 to 1024',
    defaultText: 'one per device',
    help: 'model replicas, each on its own native thread',
    check: integer('workers', 1, 1024),
  },
  ...POOLING_OPTIONS,
  {
    name: 'maxSeqLen',
    flag: { spec: '--max-seq-len <n|NONE>', value: { kind: 'integer', none: true } },
    type: 'integer from 2 to max_position_embeddings, or null',
    defaultText: "the model's `max_seq_length` (a sentence-transformers model without one: its tokenizer's `model_max_length`), else 25",
    help: 'tokens per sentence including [CLS]/[SEP]; longer input is truncated. null (NONE): no fixed length, each batch padded to its own longest sentence, up to max_position_embeddings',
    check: (value, context) => (value === null ? null : checkInteger('maxSeqLen', value, 2, context.maxPositions)),
  },
  {
    name: 'fixedEmbedLength',
    flag: { spec: '--fixed-embed-length', value: { kind: 'switch' } },
    type: 'boolean',
    defaultText: '`false`',
    help: "with maxSeqLen null and pooling NONE, pad the token vectors to the model's max_position_embeddings, so every call's rows have one shape (otherwise: to the call's longest sentence)",
    check: (value) => checkBoolean('fixedEmbedLength', value),
  },
  {
    name: 'specialTokens',
    flag: { spec: '--no-special-token', value: { kind: 'negated-switch' } },
    type: 'boolean',
    defaultText: '`true`',
    help: 'add [CLS] and [SEP]; false feeds the tokens as they are (bert-as-service\'s -no_special_token, for clients that send their own with is_tokenized)',
    check: (value) => checkBoolean('specialTokens', value),
  },
  {
    name: 'casedTokenization',
    flag: { spec: '--cased-tokenization', value: { kind: 'switch' } },
    type: 'boolean',
    defaultText: "the checkpoint's tokenizer setting (`do_lower_case`)",
    help: 'keep case and accents, whatever the checkpoint says (for cased models whose files say otherwise)',
    check: (value) => checkBoolean('casedTokenization', value),
  },
  {
    name: 'dtype',
    flag: { spec: '--dtype <dtype>', value: { kind: 'choice', choices: DTYPES } },
    type: DTYPES.map((d) => `\`'${d}'\``).join(', '),
    defaultText: "`'float32'`",
    help:
      "'float16' on CUDA only; 'int8' on the CPU only (linear weights quantized per channel, activations on the fly; oneDNN's VNNI kernels where the CPU has them). 'bfloat16' on a CPU with avx512_bf16 or AMX runs the linear layers on oneDNN's bf16 kernels (float32 sums) and the rest in float32 (traced models: the whole model in torch's bfloat16; libtorchInfo().oneDnnBf16Linear says which); on a CPU without bf16 instructions it fails with ERR_UNSUPPORTED",
    check: (value) => checkOneOf('dtype', value, DTYPES),
  },
  {
    name: 'gpuMemoryFraction',
    flag: { spec: '--gpu-memory-fraction <fraction>', value: { kind: 'number' } },
    type: 'number greater than 0 and at most 1',
    defaultText: 'no limit',
    help: "CUDA only: the share of each device's memory this process's caching allocator may take (libtorch's per-process memory fraction)",
    check: (value) => checkFraction('gpuMemoryFraction', value),
  },
  {
    name: 'threads',
    flag: { spec: '--threads <n>', value: { kind: 'integer' } },
    type: 'integer from 1 to 1024',
    defaultText: 'cores ÷ CPU workers (1 without oneDNN)',
    help: "intra-op (OpenMP) threads of each worker thread; oneDNN's linear layers run on them",
    check: integer('threads', 1, 1024),
  },
  {
    name: 'blasThreads',
    flag: { spec: '--blas-threads <n>', value: { kind: 'integer' } },
    type: 'integer from 1 to 1024',
    defaultText: '1 (cores ÷ CPU workers without oneDNN)',
    help: 'OpenBLAS threads (process-wide): the attention products, and every matrix product when libtorch lacks oneDNN',
    check: integer('blasThreads', 1, 1024),
  },
  {
    name: 'maxBatchSize',
    flag: { spec: '--batch-size <n>', value: { kind: 'integer' }, aliases: ['--max-batch-size'] },
    type: 'positive integer',
    defaultText: '32',
    help: 'most sentences in one forward pass',
    check: integer('maxBatchSize', 1),
  },
  {
    name: 'maxBatchTokens',
    flag: { spec: '--batch-tokens <n>', value: { kind: 'integer' } },
    type: 'positive integer',
    defaultText: '8192',
    help: 'most padded tokens (sentences × longest length) in one forward pass',
    check: integer('maxBatchTokens', 1),
  },
  {
    name: 'priorityBatchSize',
    flag: { spec: '--priority-batch-size <n>', value: { kind: 'integer' } },
    type: 'non-negative integer',
    defaultText: '16',
    help: 'calls with at most this many sentences jump ahead of larger ones',
    check: integer('priorityBatchSize', 0),
  },
  {
    name: 'maxQueuedSentences',
    flag: { spec: '--max-queued <n>', value: { kind: 'integer' }, serveOnly: true },
    type: 'positive integer',
    defaultText: '1,000,000',
    help: 'beyond this many unfinished sentences, encode() rejects with ERR_OVERLOADED (the server answers 429; a request larger than this on its own gets 413)',
    check: integer('maxQueuedSentences', 1),
  },
  ...MODEL_FILE_OPTIONS,
] as const satisfies readonly OptionDeclaration[];

export type EncoderOptionName = (typeof ENCODER_OPTIONS)[number]['name'];

/** Each declared option's type, as its check returns it: what Encoder.load takes (options.ts), restated nowhere. */
export type DeclaredOptions<Declarations extends { name: string; check(value: unknown, context: OptionContext): unknown }> = {
  [D in Declarations as D['name']]?: ReturnType<D['check']>;
};
export type PoolingOptionName = (typeof POOLING_OPTIONS)[number]['name'];

export const ENCODER_OPTION_NAMES: readonly EncoderOptionName[] = ENCODER_OPTIONS.map((option) => option.name);
export const POOLING_OPTION_NAMES: readonly PoolingOptionName[] = POOLING_OPTIONS.map((option) => option.name);

const BY_NAME = new Map<string, OptionDeclaration>(ENCODER_OPTIONS.map((option) => [option.name, option]));

/** The declaration's check of one given option. */
export function checkOption(name: EncoderOptionName, value: unknown, context: OptionContext): unknown {
  return BY_NAME.get(name)!.check(value, context);
}
