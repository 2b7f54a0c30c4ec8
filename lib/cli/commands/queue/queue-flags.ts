/** The flags every `bert-embed queue` verb shares: where the queue is, and which run. */
import { Command, Option } from 'commander';
import { asFlagError } from '../../encoder-flags.js';
import type { QueueTarget } from '../../../queue/connection.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_QUEUE = 'bert-embed';

export interface QueueFlags {
  redis: string;
  queue: string;
}

export function addQueueFlags(command: Command): Command {
  return command
    .addOption(new Option('--redis <url>', 'the Redis server BullMQ runs on (redis://[user:password@]host:port[/db])').env('BERT_EMBED_REDIS').default(DEFAULT_REDIS_URL))
    .option('--queue <name>', 'the BullMQ queue', DEFAULT_QUEUE);
}

export function addRunFlag(command: Command): Command {
  return command.requiredOption('--run <id>', "the run's id (letters, digits, '_' and '-')");
}

export function targetOf(flags: QueueFlags): QueueTarget {
  return { redis: flags.redis, queue: flags.queue };
}

/** The queue API's argument errors are the user's flags (exit 2), named as flags. */
export function asQueueFlagError(error: unknown): unknown {
  const flagged = asFlagError(error);
  if (flagged instanceof Error && flagged !== error) {
    flagged.message = flagged.message
      .replace(/\bfor run\b/, 'for --run')
      .replace(/\bfor queue\b/, 'for --queue')
      .replace(/\bfor redis\b/, 'for --redis')
      .replace(/\bfor shardSize\b/, 'for --shard-size')
      .replace(/\bfor taskOptions\.query\b/, 'for --query')
      .replace(/\bfor taskOptions\.topK\b/, 'for --top-k');
  }
  return flagged;
}
