/** `bert-embed queue work`: runs a queue's shards until stopped (SIGTERM: the shards in progress are finished first, then exit 0). */
import { Command } from 'commander';
import { startWorker } from '../../../queue/queue-worker.js';
import { PLACEMENT_OPTION_NAMES } from '../../../queue/run-record.js';
import { addEncoderFlags, addModelFlags, encoderOptionsFrom, parseInteger, resolveModelDir, type EncoderFlagValues } from '../../encoder-flags.js';
import { addQueueFlags, asQueueFlagError, targetOf, type QueueFlags } from './queue-flags.js';

type WorkFlags = QueueFlags &
  EncoderFlagValues & { model: string; revision: string; quiet?: boolean; concurrency: number; exitWhenDrained?: boolean; lockDuration: number; stalledInterval: number; maxStalledCount: number };

export function queueWorkCommand(): Command {
  const command = new Command('work').description("run the queue's shards through one model until stopped (SIGTERM finishes the shards in progress, then exits 0)");
  addQueueFlags(command);
  addModelFlags(command);
  command
    .option('--concurrency <n>', 'shards run at once: with 2, the next shard is read while one finishes, so the model never waits between shards', parseInteger, 2)
    .option('--exit-when-drained', 'exit 0 once the queue has nothing waiting, delayed or active')
    .option('--lock-duration <ms>', "a shard's lock: a killed worker's shard is taken over by another after it", parseInteger, 30_000)
    .option('--stalled-interval <ms>', 'how often to look for shards whose worker died', parseInteger, 30_000)
    .option('--max-stalled-count <n>', 'times a shard may lose its worker and still be retried', parseInteger, 2);
  // Where this worker runs; the run itself sets pooling, maxSeqLen, dtype and the rest.
  addEncoderFlags(command, { only: PLACEMENT_OPTION_NAMES });
  return command
    .addHelpText(
      'after',
      `
The model (-m) must be the run's: the same files, checked by sha256. A shard whose worker dies is
taken over once its lock expires; one that fails for a transient reason is retried with backoff;
bad input fails it for good (queue status shows why).

Examples:
  bert-embed queue work --redis redis://10.0.0.5:6379 -m ./all-MiniLM-L6-v2 --threads 8
  bert-embed queue work -m ./all-MiniLM-L6-v2 --device cuda:0 --concurrency 2 --exit-when-drained`,
    )
    .action(async (flags: WorkFlags) => runWork(flags));
}

async function runWork(flags: WorkFlags): Promise<void> {
  const model = await resolveModelDir(flags);
  const quiet = Boolean(flags.quiet);
  const worker = await startWorker(targetOf(flags), {
    model,
    encoderOptions: encoderOptionsFrom(flags),
    concurrency: flags.concurrency,
    exitWhenDrained: Boolean(flags.exitWhenDrained),
    lockDurationMs: flags.lockDuration,
    stalledIntervalMs: flags.stalledInterval,
    maxStalledCount: flags.maxStalledCount,
    onShard: ({ run, shard, rows, outcome, message }) => {
      if (!quiet) process.stderr.write(`bert-embed queue: ${run} shard ${shard}: ${outcome}${outcome === 'done' ? ` (${rows} rows)` : `: ${message}`}\n`);
    },
  }).catch((error: unknown) => {
    throw asQueueFlagError(error);
  });
  if (!quiet) process.stderr.write(`bert-embed queue: working on ${flags.queue} (pid ${process.pid})\n`);
  const stop = (signal: NodeJS.Signals): void => {
    if (!quiet) process.stderr.write(`bert-embed queue: ${signal}: finishing the shards in progress\n`);
    void worker.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await worker.closed;
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  }
}
