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
  return asFlagError(error, QUEUE_FLAGS);
}

/** The queue API's own fields as `bert-embed queue`'s flags. */
const QUEUE_FLAGS = { run: '--run', queue: '--queue', redis: '--redis', shardSize: '--shard-size', 'taskOptions.query': '--query', 'taskOptions.topK': '--top-k' };
