/**
 * startWorker: a BullMQ Worker that runs a queue's shards through one Encoder per set of run options
 * (a queue usually holds runs of one model and options: one Encoder). Inference runs on the
 * engine's native threads, so BullMQ's lock renewal on the event loop never waits for a batch.
 *
 * A shard that can never succeed (bad input, a model that differs from the run's, a model without
 * the task's head) fails at once with BullMQ's UnrecoverableError; any other failure is retried
 * with the run's exponential backoff. Each failure's message starts with its code (`ERR_…: `),
 * which `queue status` reads back.
 */
import os from 'node:os';
import fs from 'node:fs';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Encoder } from '../encoder.js';
import { BertEmbedError, isBertEmbedErrorCode } from '../errors.js';
import { readSourceSentences } from '../cli/input/sentences.js';
import type { SourceLine } from '../cli/input/line-reader.js';
import { InputError } from '../cli/usage-error.js';
import { resolveModelFileOptions, type EncoderOptions } from '../options.js';
import { checkInteger, checkPlainObject, rejectUnknownOptions, assertBoolean, fieldError } from '../validation.js';
import { checkQueueTarget, connectionOptions, QueueConnection, type QueueTarget } from './connection.js';
import { describeIdentity, modelIdentity, type ModelIdentity } from './model-identity.js';
import { PLACEMENT_OPTION_NAMES, RESULT_OPTION_NAMES, type RunRecord, type ShardJob } from './run-record.js';
import { writeShardOutput } from './shard-output.js';
import { runShardTask } from './shard-tasks.js';

export interface StartWorkerOptions {
  /** the model directory: the same files as the run's (checked by sha256) */
  model: string;
  /** where and how this worker runs (device, threads, workers, batch sizes); the run sets the rest */
  encoderOptions?: EncoderOptions;
  /** shards run at once (default 2: the next shard is read and queued while one finishes, so the engine never waits between shards) */
  concurrency?: number;
  /** ms a shard's lock lasts without renewal: a killed worker's shard is taken over after it (default 30000) */
  lockDurationMs?: number;
  /** ms between checks for shards whose worker died (default 30000) */
  stalledIntervalMs?: number;
  /** times a shard may lose its worker and still be retried (default 2; BullMQ's own default is 1) */
  maxStalledCount?: number;
  /** stop once the queue has nothing waiting, delayed or active */
  exitWhenDrained?: boolean;
  /** each shard done or failed, for progress output */
  onShard?: (event: ShardEvent) => void;
}

export interface ShardEvent {
  run: string;
  shard: number;
  rows: number;
  outcome: 'done' | 'failed' | 'retrying';
  message?: string;
}

export interface QueueWorker {
  /** settles once the worker has stopped (close(), or drained with exitWhenDrained) */
  readonly closed: Promise<void>;
  /** finishes the shards in progress, then stops */
  close(): Promise<void>;
}

/** Failures that no retry can mend. */
const PERMANENT_CODES = new Set<string>(['ERR_VALIDATION', 'ERR_UNKNOWN_OPTION', 'ERR_INPUT', 'ERR_INPUT_TOO_LONG', 'ERR_NO_MLM_HEAD', 'ERR_NO_CLASSIFIER_HEAD', 'ERR_NON_FINITE', 'ERR_UNSUPPORTED', 'ERR_MODEL_MISMATCH', 'ERR_QUEUE_RUN', 'ERR_MODEL_CONFIG', 'ERR_MODEL_FORMAT', 'ERR_MODEL_NOT_FOUND', 'ERR_UNSAFE_FORMAT']);
const WORKER_OPTIONS = ['model', 'encoderOptions', 'concurrency', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'exitWhenDrained', 'onShard'];
const DRAINED_CHECK_MS = 500;

function codeOf(error: unknown): string {
  if (error instanceof InputError) return 'ERR_INPUT';
  if (error instanceof TypeError || error instanceof RangeError) return (error as { code?: string }).code === 'ERR_UNKNOWN_OPTION' ? 'ERR_UNKNOWN_OPTION' : 'ERR_VALIDATION';
  const code = (error as { code?: unknown } | null)?.code;
  if (isBertEmbedErrorCode(code)) return code;
  // The OS's errors (ENOENT, EIO, ENOSPC…) reading or writing the shard's files: transient, as a missing, full or flaky mount is.
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? 'ERR_IO' : 'ERR_INTERNAL';
}

/** The error BullMQ records: the code first, then the message; permanent ones as UnrecoverableError. */
function asJobError(error: unknown): Error {
  const code = codeOf(error);
  const message = `${code}: ${error instanceof Error ? error.message : String(error)}`;
  return PERMANENT_CODES.has(code) ? new UnrecoverableError(message) : new Error(message);
}

async function readShard(record: RunRecord, job: ShardJob): Promise<SourceLine[]> {
  const input = job.input;
  if (input.kind === 'texts') return input.texts.map((text, i) => ({ source: input.source, line: input.lines[i], text }));
  const recorded = record.sources.find((source) => source.path === input.source);
  const stat = fs.statSync(input.source);
  if (recorded && (stat.size !== recorded.size || stat.mtimeMs !== recorded.mtimeMs)) {
    throw new InputError(input.source, input.firstLine, `changed since run ${record.run} was added (${recorded.size} bytes then, ${stat.size} now): its shards no longer point at their rows`);
  }
  const places: SourceLine[] = [];
  for await (const sentence of readSourceSentences(input.source, record.input, { start: input.start, end: input.end, firstLine: input.firstLine })) places.push(sentence);
  return places;
}

export async function startWorker(target: QueueTarget, options: StartWorkerOptions): Promise<QueueWorker> {
  const where = checkQueueTarget(target);
  const given = checkPlainObject('options', options);
  rejectUnknownOptions('startWorker', given, WORKER_OPTIONS);
  if (typeof given.model !== 'string' || given.model === '') throw fieldError(TypeError, 'model', 'a model directory', given.model);
  const model = given.model;
  const placement = checkPlainObject('encoderOptions', given.encoderOptions ?? {});
  rejectUnknownOptions('encoderOptions (a worker sets where it runs; the run sets the rest)', placement, PLACEMENT_OPTION_NAMES);
  const concurrency = checkInteger('concurrency', given.concurrency ?? 2, 1, 64);
  const lockDuration = checkInteger('lockDurationMs', given.lockDurationMs ?? 30_000, 100);
  const stalledInterval = checkInteger('stalledIntervalMs', given.stalledIntervalMs ?? 30_000, 100);
  const maxStalledCount = checkInteger('maxStalledCount', given.maxStalledCount ?? 2, 0, 1000);
  const exitWhenDrained = given.exitWhenDrained ?? false;
  assertBoolean('exitWhenDrained', exitWhenDrained);
  const onShard = options.onShard ?? (() => undefined);
  if (typeof onShard !== 'function') throw fieldError(TypeError, 'onShard', 'function', onShard);

  const connection = await QueueConnection.open(where);
  const records = new Map<string, Promise<RunRecord | undefined>>();
  const identities = new Map<string, Promise<ModelIdentity>>();
  const encoders = new Map<string, Promise<Encoder>>();
  const writtenBy = `${os.hostname()}:${process.pid}`;

  const recordOf = (run: string): Promise<RunRecord | undefined> => {
    let record = records.get(run);
    if (!record) {
      record = connection.readRun(run);
      records.set(run, record);
      record.then((found) => found ?? records.delete(run), () => records.delete(run));
    }
    return record;
  };
  const identityFor = (record: RunRecord): Promise<ModelIdentity> => {
    const fileOptions = resolveModelFileOptions(record.encoderOptions);
    const key = JSON.stringify(fileOptions);
    if (!identities.has(key)) identities.set(key, modelIdentity(model, fileOptions));
    return identities.get(key)!;
  };
  const encoderFor = (record: RunRecord): Promise<Encoder> => {
    const key = JSON.stringify(RESULT_OPTION_NAMES.map((name) => record.encoderOptions[name]));
    let encoder = encoders.get(key);
    if (!encoder) {
      encoder = Encoder.load(model, { ...(record.encoderOptions as EncoderOptions), ...(placement as EncoderOptions) });
      encoders.set(key, encoder);
      encoder.catch(() => encoders.delete(key)); // a failed load is tried again by the next shard
    }
    return encoder;
  };

  const processShard = async (job: Job<ShardJob>): Promise<{ rows: number }> => {
    const data = job.data;
    try {
      const record = await recordOf(data.run);
      if (!record) throw new BertEmbedError(`run ${data.run} has no record in queue ${where.queue}: it was removed, or added to another queue`, 'ERR_QUEUE_RUN');
      // The model loads on native threads while its files are hashed: a worker's first shard waits for the slower of the two.
      const encoder = encoderFor(record);
      encoder.catch(() => undefined); // awaited below, after the identity check
      const identity = await identityFor(record);
      if (identity.sha256 !== record.model.sha256) {
        throw new BertEmbedError(`this worker's model ${describeIdentity(identity)} is not run ${record.run}'s model ${describeIdentity(record.model)}: start the worker with -m on the run's model files`, 'ERR_MODEL_MISMATCH');
      }
      const places = await readShard(record, data);
      if (places.length !== data.rows) {
        throw new InputError(places[0]?.source ?? String(data.input.source), data.input.kind === 'file' ? data.input.firstLine : 1, `shard ${data.shard} holds ${places.length} rows where run ${record.run} counted ${data.rows}: the input changed since the run was added`);
      }
      const answer = await runShardTask(await encoder, record, places, data.firstRow);
      await writeShardOutput(record.out, { run: record.run, shard: data.shard, rows: places.length, source: places[0]?.source ?? '', lines: places.map((p) => p.line), writtenBy }, answer.extension, answer.bytes);
      return { rows: places.length };
    } catch (error) {
      throw asJobError(error);
    }
  };

  const worker = new Worker<ShardJob>(where.queue, processShard, { connection: connectionOptions(where), concurrency, lockDuration, stalledInterval, maxStalledCount, autorun: false });
  // A lost Redis connection is retried by BullMQ; the event only needs a listener so that it is not thrown.
  worker.on('error', () => undefined);
  // Told once BullMQ has recorded the outcome (the job's state says so by then).
  worker.on('completed', (job) => onShard({ run: job.data.run, shard: job.data.shard, rows: job.data.rows, outcome: 'done' }));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const last = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    onShard({ run: job.data.run, shard: job.data.shard, rows: job.data.rows, outcome: last ? 'failed' : 'retrying', message: error.message });
  });

  let closing: Promise<void> | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (drainTimer) clearInterval(drainTimer);
      await worker.close();
      for (const encoder of encoders.values()) await encoder.then((e) => e.close(), () => undefined);
      await connection.close();
    })();
    return closing;
  };
  if (exitWhenDrained) {
    let checking = false;
    const checkDrained = (): void => {
      if (checking || closing) return;
      checking = true;
      connection.queue
        .getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children')
        .then((counts) => {
          if (Object.values(counts).every((count) => count === 0)) void close();
        })
        .catch(() => undefined)
        .finally(() => (checking = false));
    };
    // Looked at as each shard settles (the last one ends the run at once); the timer also catches
    // retries and stalled shards coming due, and a queue that was empty from the start.
    worker.on('completed', checkDrained);
    worker.on('failed', checkDrained);
    drainTimer = setInterval(checkDrained, DRAINED_CHECK_MS);
  }
  const running = worker.run();
  const closed = (async () => {
    await running;
    await close();
  })();
  return { closed, close: async () => { await close(); await closed; } };
}
