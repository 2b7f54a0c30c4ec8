/**
 * addRun: a run's shards as BullMQ jobs, one per shard, each with a job id fixed by (run, shard),
 * so adding the same run again adds nothing. The model is loaded once here: it resolves the options
 * every worker will use, and refuses a task the model cannot do before any job exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Encoder } from '../encoder.js';
import { resolveModelFileOptions, type EncoderOptions } from '../options.js';
import { BertEmbedError } from '../errors.js';
import { checkInputOptions, type InputOptions } from '../cli/input/sentences.js';
import type { ScoreMetric } from '../tasks/index.js';
import { SCORE_METRICS } from '../tasks/index.js';
import { assertBoolean, assertStringArray, checkInteger, checkOneOf, checkPlainObject, rejectUnknownOptions, fieldError } from '../validation.js';
import { checkQueueTarget, withConnection, type QueueTarget } from './connection.js';
import { modelIdentity } from './model-identity.js';
import { planFileShards, planInlineShards, type ShardPlan } from './plan-shards.js';
import { checkRunId, QUEUE_TASKS, RESULT_OPTION_NAMES, shardJobId, TASK_OPTION_NAMES, type QueueTask, type RunRecord } from './run-record.js';
import { runDir } from './shard-output.js';

export interface QueueTaskOptions {
  /** score: what each masked copy hides (default within_word_l2r) */
  metric?: ScoreMetric;
  /** rerank: the query every document is scored against */
  query?: string;
  /** classify: labels kept per row */
  topK?: number;
  /** classify and rerank: logits instead of the activation */
  rawScores?: boolean;
}

export interface AddRunOptions {
  run: string;
  /** a directory every worker and the collector see at this same path; shards go to OUT/RUN/ */
  out: string;
  /** the model directory (every worker must hold the same files) */
  model: string;
  task?: QueueTask;
  taskOptions?: QueueTaskOptions;
  /** the options that shape the answers (pooling, maxSeqLen, dtype…); placement options are each worker's */
  encoderOptions?: EncoderOptions;
  /** input files, read as `bert-embed encode` reads them, at the same path on every worker */
  files?: string[];
  /** or the texts themselves (small runs: they travel in Redis) */
  texts?: string[];
  input?: InputOptions;
  /** rows per shard (default 500) */
  shardSize?: number;
  /** tries of a shard that fails for a transient reason (default 5; BullMQ's own default is 1) */
  attempts?: number;
  /** the first retry's delay in ms, doubled at each retry (default 1000) */
  backoffMs?: number;
}

export interface AddRunResult {
  run: string;
  shards: number;
  rows: number;
  /** false when the run was there already (nothing was added) */
  created: boolean;
}

/** Inline texts travel in Redis: beyond this many, write them to a shared file. */
export const MAX_INLINE_ROWS = 100_000;
const ADD_OPTIONS = ['run', 'out', 'model', 'task', 'taskOptions', 'encoderOptions', 'files', 'texts', 'input', 'shardSize', 'attempts', 'backoffMs'];
const JOBS_PER_ADD = 1000;

function resolveTaskOptions(task: QueueTask, given: Record<string, unknown>): Record<string, unknown> {
  rejectUnknownOptions(`the ${task} task`, given, TASK_OPTION_NAMES[task]);
  if (task === 'score') return { metric: checkOneOf('taskOptions.metric', given.metric ?? 'within_word_l2r', SCORE_METRICS) };
  const rawScores = given.rawScores ?? false;
  assertBoolean('taskOptions.rawScores', rawScores);
  if (task === 'classify') return given.topK === undefined ? { rawScores } : { topK: checkInteger('taskOptions.topK', given.topK, 1), rawScores };
  if (task === 'rerank') {
    if (typeof given.query !== 'string' || given.query === '') throw fieldError(TypeError, 'taskOptions.query', 'non-empty string (rerank scores every row against it)', given.query);
    return { query: given.query, rawScores };
  }
  return {};
}

/** Loads the model once: the resolved options, one row's shape, and the task's own refusal if the model cannot do it. */
async function resolveModel(model: string, task: QueueTask, taskOptions: Record<string, unknown>, encoderOptions: EncoderOptions): Promise<{ options: Record<string, unknown>; rowShape: number[] }> {
  const encoder = await Encoder.load(model, { ...encoderOptions, workers: 1 });
  try {
    if (task === 'encode' && encoder.options.pooling === 'NONE' && encoder.options.maxSeqLen === null && !encoder.options.fixedEmbedLength) {
      throw new RangeError('pooling NONE with maxSeqLen null writes rows of one shape only with fixedEmbedLength (or give maxSeqLen a number)');
    }
    if (task === 'score') await encoder.score(['a'], { metric: taskOptions.metric as ScoreMetric });
    if (task === 'classify') await encoder.classify(['a']);
    if (task === 'rerank') await encoder.rerank(taskOptions.query as string, ['a']);
    const options: Record<string, unknown> = {};
    const resolved = encoder.options as unknown as Record<string, unknown>;
    for (const name of RESULT_OPTION_NAMES) {
      const value = resolved[name] ?? (encoderOptions as Record<string, unknown>)[name];
      if (value !== undefined) options[name] = value;
    }
    return { options, rowShape: encoder.options.pooling === 'NONE' ? [encoder.maxTokens, encoder.dimension] : [encoder.dimension] };
  } finally {
    await encoder.close();
  }
}

async function planShards(spec: Record<string, unknown>, input: InputOptions, shardSize: number): Promise<ShardPlan> {
  if ((spec.files === undefined) === (spec.texts === undefined)) throw new TypeError('Expected either files or texts for addRun (one of them) but received ' + (spec.files === undefined ? 'neither' : 'both'));
  if (spec.texts !== undefined) {
    assertStringArray('texts', spec.texts);
    if (spec.texts.length > MAX_INLINE_ROWS) throw fieldError(RangeError, 'texts', `at most ${MAX_INLINE_ROWS} texts (larger runs read files from a shared path: files)`, `${spec.texts.length} texts`);
    return planInlineShards('texts', spec.texts.map((text, i) => ({ text, line: i + 1 })), shardSize, input);
  }
  assertStringArray('files', spec.files);
  if (spec.files.length === 0) throw fieldError(RangeError, 'files', 'at least one file', spec.files);
  const files = spec.files.map((file) => path.resolve(file));
  checkInputOptions(files, input);
  return planFileShards(files, input, shardSize);
}

/** A run already in Redis must be this same run: same inputs, task, options and model. */
function sameRun(a: RunRecord, b: RunRecord): boolean {
  const essence = (r: RunRecord) => JSON.stringify([r.out, r.task, r.taskOptions, r.encoderOptions, r.input, r.model.sha256, r.shardRows, r.sources.map((s) => [s.path, s.size])]);
  return essence(a) === essence(b);
}

export async function addRun(target: QueueTarget, options: AddRunOptions): Promise<AddRunResult> {
  const where = checkQueueTarget(target);
  const spec = checkPlainObject('options', options);
  rejectUnknownOptions('addRun', spec, ADD_OPTIONS);
  const run = checkRunId(spec.run);
  if (typeof spec.out !== 'string' || spec.out === '') throw fieldError(TypeError, 'out', 'a directory path', spec.out);
  if (typeof spec.model !== 'string' || spec.model === '') throw fieldError(TypeError, 'model', 'a model directory', spec.model);
  const task = checkOneOf('task', spec.task ?? 'encode', QUEUE_TASKS);
  const taskOptions = resolveTaskOptions(task, checkPlainObject('taskOptions', spec.taskOptions ?? {}));
  const shardSize = checkInteger('shardSize', spec.shardSize ?? 500, 1, 1_000_000);
  const attempts = checkInteger('attempts', spec.attempts ?? 5, 1, 1000);
  const backoffMs = checkInteger('backoffMs', spec.backoffMs ?? 1000, 0);
  const input = { ...(checkPlainObject('input', spec.input ?? {}) as InputOptions) };
  const encoderOptions = checkPlainObject('encoderOptions', spec.encoderOptions ?? {}) as EncoderOptions;
  rejectUnknownOptions('encoderOptions (a run records the options that shape its answers; devices and threads are each worker’s)', encoderOptions, RESULT_OPTION_NAMES);

  const { options: resolvedOptions, rowShape } = await resolveModel(spec.model, task, taskOptions, encoderOptions);
  const identity = await modelIdentity(spec.model, resolveModelFileOptions(encoderOptions as Record<string, unknown>));
  const plan = await planShards(spec, input, shardSize);
  if (plan.rows === 0) throw fieldError(RangeError, 'files', 'input with at least one row', 'none');
  const out = path.resolve(spec.out);
  const record: RunRecord = {
    version: 1,
    run,
    out,
    task,
    taskOptions,
    encoderOptions: resolvedOptions,
    input: plan.input,
    model: identity,
    rowShape,
    shardRows: plan.shards.map((shard) => shard.rows),
    rows: plan.rows,
    sources: plan.sources,
    createdAt: new Date().toISOString(),
  };

  return withConnection(where, async (connection) => {
    const { record: existing, created } = await connection.createRun(record);
    if (!created && !sameRun(existing, record)) {
      throw new BertEmbedError(`run ${run} is in queue ${where.queue} already, with other inputs, options or model: give this run another id, or remove the old one (queue remove)`, 'ERR_QUEUE_RUN');
    }
    fs.mkdirSync(runDir(out, run), { recursive: true });
    fs.writeFileSync(path.join(runDir(out, run), 'run.json'), `${JSON.stringify(existing, null, 2)}\n`);
    // Added again even when the run exists: an add that died halfway is completed; existing ids add nothing.
    const jobOptions = { attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: false, removeOnFail: false };
    for (let first = 0; first < plan.shards.length; first += JOBS_PER_ADD) {
      const jobs = plan.shards.slice(first, first + JOBS_PER_ADD).map((shard, i) => {
        const index = first + i;
        return { name: task, data: { run, shard: index, ...shard }, opts: { ...jobOptions, jobId: shardJobId(run, index) } };
      });
      await connection.queue.addBulk(jobs);
    }
    return { run, shards: plan.shards.length, rows: plan.rows, created };
  });
}
