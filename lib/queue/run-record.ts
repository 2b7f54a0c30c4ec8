/**
 * What a queue run is: its inputs cut into shards, the task and its options, the model's identity,
 * where its output goes. The record lives in Redis beside the run's BullMQ jobs (and is written to
 * OUT/RUN/run.json for people); every worker reads it before it runs a shard.
 */
import type { InputOptions } from '../cli/input/sentences.js';
import type { ModelIdentity } from './model-identity.js';

export const QUEUE_TASKS = ['encode', 'score', 'classify', 'rerank'] as const;
export type QueueTask = (typeof QUEUE_TASKS)[number];

/** The options each task takes (taskOptions), as its CLI command's flags: --metric, --query, --top-k, --raw-scores. */
export const TASK_OPTION_NAMES: Record<QueueTask, readonly string[]> = { encode: [], score: ['metric'], classify: ['topK', 'rawScores'], rerank: ['query', 'rawScores'] };

/** Encoder options that change the answers: recorded with the run, so every worker answers alike. */
export const RESULT_OPTION_NAMES = [
  'pooling',
  'layers',
  'normalize',
  'maskClsSep',
  'maxSeqLen',
  'fixedEmbedLength',
  'specialTokens',
  'casedTokenization',
  'dtype',
  'tunedModelDir',
  'ckptName',
  'configName',
] as const;

/** Encoder options that only place the work (devices, threads, batch sizes): each worker's own. */
export const PLACEMENT_OPTION_NAMES = ['device', 'devices', 'workers', 'gpuMemoryFraction', 'threads', 'blasThreads', 'maxBatchSize', 'maxBatchTokens', 'priorityBatchSize', 'maxQueuedSentences'] as const;

/** A file shard: bytes [start, end) of `source`, starting at a record on line `firstLine`. */
export interface FileShardInput {
  kind: 'file';
  source: string;
  start: number;
  end: number;
  firstLine: number;
}

/** A shard of a small run whose texts travel in Redis (stdin, or texts given to addRun). */
export interface InlineShardInput {
  kind: 'texts';
  source: string;
  texts: string[];
  lines: number[];
}

/** One BullMQ job's data. */
export interface ShardJob {
  run: string;
  shard: number;
  /** the shard's first row in the whole run, counted from 0 */
  firstRow: number;
  rows: number;
  input: FileShardInput | InlineShardInput;
}

export interface RunRecord {
  version: 1;
  run: string;
  /** absolute; shards are written to OUT/RUN/ */
  out: string;
  task: QueueTask;
  taskOptions: Record<string, unknown>;
  /** RESULT_OPTION_NAMES as the model resolved them at add */
  encoderOptions: Record<string, unknown>;
  /** how the input files are read (columns by number; the header, if any, lies before the first shard) */
  input: InputOptions;
  model: ModelIdentity;
  /** encode: one row's shape */
  rowShape: number[];
  /** rows of each shard, in order */
  shardRows: number[];
  rows: number;
  /** each input file's size and modification time at add: a worker refuses a file changed since */
  sources: { path: string; size: number; mtimeMs: number }[];
  createdAt: string;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;
const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export function checkRunId(run: unknown): string {
  if (typeof run !== 'string') throw new TypeError(`Expected a run id (a string) for run but received ${typeof run}`);
  if (!RUN_ID.test(run)) throw new RangeError(`Expected 1 to 128 letters, digits, '_' or '-' for run but received ${JSON.stringify(run)}`);
  return run;
}

export function checkQueueName(queue: unknown): string {
  if (typeof queue !== 'string') throw new TypeError(`Expected a queue name (a string) for queue but received ${typeof queue}`);
  if (!QUEUE_NAME.test(queue)) throw new RangeError(`Expected 1 to 128 letters, digits, '_', '.' or '-' for queue but received ${JSON.stringify(queue)}`);
  return queue;
}

/** BullMQ job ids may hold no ':' and must not be integers; a run id holds no '.', so none collide. */
export function shardJobId(run: string, shard: number): string {
  return `${run}.${shardName(shard)}`;
}

export function shardName(shard: number): string {
  return `shard-${String(shard).padStart(6, '0')}`;
}

export function runRecordKey(queue: string, run: string): string {
  return `bert-embed:${queue}:run:${run}`;
}
