/**
 * Where a run's queue lives: a Redis URL and a BullMQ queue name. One ioredis client serves the
 * run records; BullMQ's Queue and Worker take their own connections from the same options.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { BertEmbedError } from '../errors.js';
import { checkPlainObject, rejectUnknownOptions } from '../validation.js';
import { checkQueueName, runRecordKey, type RunRecord, type ShardJob } from './run-record.js';

export interface QueueTarget {
  /** redis://[user:password@]host:port[/db] (rediss:// for TLS) */
  redis: string;
  /** the BullMQ queue's name */
  queue: string;
}

export function checkQueueTarget(target: unknown): QueueTarget {
  const given = checkPlainObject('target', target);
  rejectUnknownOptions('target', given, ['redis', 'queue']);
  if (typeof given.redis !== 'string' || !/^rediss?:\/\/./.test(given.redis)) {
    throw new TypeError(`Expected a Redis URL (redis://host:port) for redis but received ${JSON.stringify(given.redis)}`);
  }
  return { redis: given.redis, queue: checkQueueName(given.queue) };
}

/** BullMQ's workers block on Redis: their connections must retry forever (maxRetriesPerRequest null). */
export function connectionOptions(target: QueueTarget): ConnectionOptions {
  return { url: target.redis, maxRetriesPerRequest: null };
}

export class QueueConnection {
  readonly redis: Redis;
  #queue: Queue<ShardJob> | undefined;

  private constructor(readonly target: QueueTarget) {
    // Commands fail instead of waiting forever when Redis is unreachable (a CLI must exit).
    this.redis = new Redis(target.redis, { maxRetriesPerRequest: 2, lazyConnect: true, retryStrategy: (times) => (times > 3 ? null : 200 * times) });
  }

  /** BullMQ's queue, on connections of its own (opened once Redis answered). */
  get queue(): Queue<ShardJob> {
    if (!this.#queue) {
      this.#queue = new Queue<ShardJob>(this.target.queue, { connection: connectionOptions(this.target) });
      // A lost connection is retried by ioredis; the event only needs a listener so that nothing is printed.
      this.#queue.on('error', () => undefined);
    }
    return this.#queue;
  }

  static async open(target: QueueTarget): Promise<QueueConnection> {
    const connection = new QueueConnection(target);
    let reason: string | undefined;
    connection.redis.on('error', (error: Error) => (reason ??= error.message));
    try {
      await connection.redis.connect();
    } catch (error) {
      await connection.close();
      throw new BertEmbedError(`cannot reach Redis at ${redactedUrl(target.redis)} (${reason ?? (error as Error).message})`, 'ERR_CONNECTION', { cause: error });
    }
    return connection;
  }

  async readRun(run: string): Promise<RunRecord | undefined> {
    const text = await this.redis.get(runRecordKey(this.target.queue, run));
    return text === null ? undefined : (JSON.parse(text) as RunRecord);
  }

  /** The run's record, or ERR_QUEUE_RUN when the queue has none. */
  async requireRun(run: string): Promise<RunRecord> {
    const record = await this.readRun(run);
    if (!record) throw new BertEmbedError(`queue ${this.target.queue} has no run ${run}`, 'ERR_QUEUE_RUN');
    return record;
  }

  /** Writes the record unless one exists; returns the record in force. */
  async createRun(record: RunRecord): Promise<{ record: RunRecord; created: boolean }> {
    const created = (await this.redis.set(runRecordKey(this.target.queue, record.run), JSON.stringify(record), 'NX')) === 'OK';
    return { record: created ? record : (await this.readRun(record.run))!, created };
  }

  async deleteRun(run: string): Promise<void> {
    await this.redis.del(runRecordKey(this.target.queue, run));
  }

  async close(): Promise<void> {
    await this.#queue?.close().catch(() => undefined);
    this.redis.disconnect();
  }
}

/** A connection for the length of `use`, closed whatever happens. */
export async function withConnection<T>(target: QueueTarget, use: (connection: QueueConnection) => Promise<T>): Promise<T> {
  const connection = await QueueConnection.open(checkQueueTarget(target));
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
