/**
 * The flags every model command shares: where the model is, and every Encoder option. Values are
 * parsed here; their ranges are checked by Encoder's own validation, whose messages are then
 * given the flag's name.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DTYPES, POOLING_STRATEGIES, type EncoderOptions } from '../options.js';
import { fetchHubModel, hubRepoIdProblem, hubRevisionProblem, isHubRepoId } from '../hub/hub-download.js';
import { createProgress } from './progress.js';
import { runSignal } from './run-control.js';
import { UsageError } from './usage-error.js';

export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected an integer but received "${value}"`);
  return Number(value);
}

function collectIntegers(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), parseInteger(value)];
}

/** Encoder option name → flag, for messages. */
const FLAG_OF: Record<string, string> = {
  device: '--device',
  workers: '--workers',
  pooling: '--pooling',
  layers: '--layers',
  maxSeqLen: '--max-seq-len',
  normalize: '--normalize',
  maskClsSep: '--mask-cls-sep',
  dtype: '--dtype',
  maxBatchSize: '--batch-size',
  maxBatchTokens: '--batch-tokens',
  threads: '--threads',
  blasThreads: '--blas-threads',
};

export function addModelFlags(command: Command): Command {
  return command
    .requiredOption('-m, --model <dir|repo>', 'model directory, or a Hugging Face repo id downloaded once into the cache')
    .option('--revision <rev>', 'hub revision (branch, tag or commit) for a repo id', 'main')
    .option('-q, --quiet', 'no progress bar');
}

export function addEncoderFlags(command: Command): Command {
  return command
    .option('--device <device>', "'cpu', 'cuda' or 'cuda:N'")
    .option('--workers <n>', 'model replicas (worker threads)', parseInteger)
    .addOption(new Option('--pooling <strategy>', 'pooling strategy').choices(POOLING_STRATEGIES))
    .option('--layers <index...>', 'layers to pool, concatenated: -1 last, 0 embeddings (e.g. --layers -4 -3 -2 -1)', collectIntegers)
    .option('--max-seq-len <n>', 'tokens per sentence, [CLS]/[SEP] included; longer input is truncated', parseInteger)
    .option('--normalize', 'L2-normalize every vector')
    .option('--mask-cls-sep', 'keep [CLS]/[SEP] out of mean/max pooling')
    .addOption(new Option('--dtype <dtype>', 'weights and activations').choices(DTYPES))
    .option('--batch-size <n>', 'most sentences per forward pass', parseInteger)
    .option('--batch-tokens <n>', 'most padded tokens per forward pass', parseInteger)
    .option('--threads <n>', 'intra-op threads per worker', parseInteger)
    .option('--blas-threads <n>', 'OpenBLAS threads', parseInteger);
}

export interface EncoderFlagValues {
  device?: string;
  workers?: number;
  pooling?: EncoderOptions['pooling'];
  layers?: number[];
  maxSeqLen?: number;
  normalize?: boolean;
  maskClsSep?: boolean;
  dtype?: EncoderOptions['dtype'];
  batchSize?: number;
  batchTokens?: number;
  threads?: number;
  blasThreads?: number;
}

export function encoderOptionsFrom(flags: EncoderFlagValues): EncoderOptions {
  const options: EncoderOptions = {
    device: flags.device,
    workers: flags.workers,
    pooling: flags.pooling,
    layers: flags.layers,
    maxSeqLen: flags.maxSeqLen,
    normalize: flags.normalize,
    maskClsSep: flags.maskClsSep,
    dtype: flags.dtype,
    maxBatchSize: flags.batchSize,
    maxBatchTokens: flags.batchTokens,
    threads: flags.threads,
    blasThreads: flags.blasThreads,
  };
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as EncoderOptions;
}

/** Encoder's argument errors are the user's flags: say so with the flag's name (exit 2). */
export function asFlagError(error: unknown): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error;
  let message = error.message;
  for (const [option, flag] of Object.entries(FLAG_OF)) message = message.replace(new RegExp(`\\bfor ${option}(\\b|\\[)`), `for ${flag}$1`);
  return new UsageError(message);
}

/** A local directory as is; a repo id from the cache, downloaded first if need be. */
export async function resolveModelDir(flags: { model: string; revision: string; quiet?: boolean }): Promise<string> {
  if (!isHubRepoId(flags.model)) return flags.model;
  // Checked here too (fetchHubModel refuses them as well), to name the flag: a usage error, exit 2.
  const repoProblem = hubRepoIdProblem(flags.model);
  if (repoProblem) throw new UsageError(`--model ${JSON.stringify(flags.model)} is no directory, nor a Hugging Face repo id (org/name: ${repoProblem})`);
  const revisionProblem = hubRevisionProblem(flags.revision);
  if (revisionProblem) throw new UsageError(`Expected a hub revision (a branch, tag or commit: ${revisionProblem}) for --revision but received ${JSON.stringify(flags.revision)}`);
  let progress: ReturnType<typeof createProgress> | undefined;
  let shown = 0;
  return fetchHubModel(flags.model, {
    revision: flags.revision,
    signal: runSignal,
    onProgress: (file, received, total) => {
      progress ??= createProgress(`MiB of ${file}`, total === undefined ? undefined : total / 2 ** 20, flags.quiet ?? false, (n) => n.toFixed(1));
      progress.advance((received - shown) / 2 ** 20);
      shown = received;
    },
    onFileDone: () => {
      progress?.finish();
      progress = undefined;
      shown = 0;
    },
  });
}
