/** `bert-embed queue add`: a run's input cut into shards, one BullMQ job each. */
import { Command, Option } from 'commander';
import { SCORE_METRICS } from '../../../tasks/index.js';
import { addRun } from '../../../queue/add-run.js';
import { QUEUE_TASKS, RESULT_OPTION_NAMES, TASK_OPTION_NAMES, type QueueTask } from '../../../queue/run-record.js';
import { addEncoderFlags, addModelFlags, encoderOptionsFrom, parseInteger, resolveModelDir, type EncoderFlagValues } from '../../encoder-flags.js';
import { addInputFlags, checkReadable, inputOptionsFrom, type InputFlagValues } from '../../input-flags.js';
import { readSentences } from '../../input/sentences.js';
import { UsageError } from '../../usage-error.js';
import { addQueueFlags, addRunFlag, asQueueFlagError, targetOf, type QueueFlags } from './queue-flags.js';

type AddFlags = QueueFlags &
  InputFlagValues &
  EncoderFlagValues & { run: string; out: string; shardSize: number; task: QueueTask; query?: string; metric?: string; topK?: number; rawScores?: boolean; attempts: number; backoff: number; model: string; revision: string; quiet?: boolean };

export function queueAddCommand(): Command {
  const command = new Command('add').description('add a run: cut the input into shards, one BullMQ job each (adding the same run again adds nothing)');
  addQueueFlags(command);
  addRunFlag(command);
  command
    .requiredOption('--out <dir>', 'where the shards are written (OUT/RUN/), at the same path on every worker and the collector')
    .option('--shard-size <n>', 'rows per shard', parseInteger, 500)
    .addOption(new Option('--task <task>', 'what each row gets: the command of the same name').choices(QUEUE_TASKS).default('encode'))
    .option('--query <text>', 'rerank: the query every row (a document) is scored against')
    .addOption(new Option('--metric <metric>', 'score: what each masked copy hides').choices(SCORE_METRICS))
    .option('--top-k <n>', 'classify: labels per row, best first', parseInteger)
    .option('--raw-scores', 'classify, rerank: logits instead of the activation')
    .option('--attempts <n>', 'tries of a shard that fails for a transient reason, with exponential backoff', parseInteger, 5)
    .option('--backoff <ms>', "the first retry's delay, doubled each time", parseInteger, 1000);
  addInputFlags(command);
  addModelFlags(command);
  // Only the options that shape the answers: devices, threads and batch sizes are each worker's.
  addEncoderFlags(command, { only: RESULT_OPTION_NAMES });
  return command
    .addHelpText(
      'after',
      `
Files are referenced, not copied: each shard is (file, byte range, first line), so every worker must
see the files, and --out, at the same paths (NFS, a bucket mounted by FUSE, or one machine's disk).
Stdin ('-') travels inline in Redis, for small runs only (at most 100,000 rows).

Examples:
  bert-embed queue add --redis redis://10.0.0.5:6379 --run wiki --out /mnt/shared/out -m ./all-MiniLM-L6-v2 /mnt/shared/wiki.txt
  bert-embed queue add --run docs-ce --task rerank --query 'how do I bake bread' --out /mnt/shared/out -m ./ms-marco-MiniLM-L-6-v2 --field text /mnt/shared/docs.jsonl`,
    )
    .action(async (files: string[], flags: AddFlags) => runAdd(files, flags));
}

function taskOptionsOf(flags: AddFlags): Record<string, unknown> {
  const given = { metric: flags.metric, query: flags.query, topK: flags.topK, rawScores: flags.rawScores };
  const flagOf: Record<string, string> = { metric: '--metric', query: '--query', topK: '--top-k', rawScores: '--raw-scores' };
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!TASK_OPTION_NAMES[flags.task].includes(name)) throw new UsageError(`${flagOf[name]} is not a flag of --task ${flags.task}`);
    options[name] = value;
  }
  if (flags.task === 'rerank' && flags.query === undefined) throw new UsageError('--task rerank needs --query <text>');
  return options;
}

async function runAdd(files: string[], flags: AddFlags): Promise<void> {
  const sources = files.length > 0 ? files : ['-'];
  if (sources.includes('-') && sources.length > 1) throw new UsageError("stdin ('-') cannot be mixed with files in one run: its rows travel inline, the files' by reference");
  const input = inputOptionsFrom(sources, flags);
  const taskOptions = taskOptionsOf(flags);
  checkReadable(sources);
  const model = await resolveModelDir(flags);
  let texts: string[] | undefined;
  if (sources[0] === '-') {
    texts = [];
    for await (const sentence of readSentences(sources, input)) texts.push(sentence.text);
  }
  const result = await addRun(targetOf(flags), {
    run: flags.run,
    out: flags.out,
    model,
    task: flags.task,
    taskOptions,
    encoderOptions: encoderOptionsFrom(flags),
    ...(texts ? { texts } : { files: sources, input }),
    shardSize: flags.shardSize,
    attempts: flags.attempts,
    backoffMs: flags.backoff,
  }).catch((error: unknown) => {
    throw asQueueFlagError(error);
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
