/** runStatus: where each shard of a run stands, from BullMQ's job states, and why failed ones failed. */
import { withConnection, type QueueConnection, type QueueTarget } from './connection.js';
import { checkRunId, shardJobId, type RunRecord } from './run-record.js';

export interface RunStatus {
  run: string;
  task: RunRecord['task'];
  out: string;
  shards: { total: number; done: number; failed: number; active: number; waiting: number; delayed: number };
  rows: { total: number; done: number };
  failures: { shard: number; code: string; message: string }[];
}

/** BullMQ's state of each shard's job ('unknown': no such job, e.g. removed). */
export type ShardState = 'completed' | 'failed' | 'active' | 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'unknown';

const LOOKUPS_AT_ONCE = 500;

export async function shardStates(connection: QueueConnection, record: RunRecord): Promise<ShardState[]> {
  const states: ShardState[] = [];
  for (let first = 0; first < record.shardRows.length; first += LOOKUPS_AT_ONCE) {
    const ids = record.shardRows.slice(first, first + LOOKUPS_AT_ONCE).map((_, i) => shardJobId(record.run, first + i));
    states.push(...((await Promise.all(ids.map((id) => connection.queue.getJobState(id)))) as ShardState[]));
  }
  return states;
}

/** `ERR_X: message` as the worker records it, split. */
export function failureOf(reason: string | undefined): { code: string; message: string } {
  const match = /^(ERR_[A-Z0-9_]+): ([\s\S]*)$/.exec(reason ?? '');
  return match ? { code: match[1], message: match[2] } : { code: 'ERR_INTERNAL', message: reason ?? 'failed without a reason' };
}

export function runStatus(target: QueueTarget, run: string): Promise<RunStatus> {
  checkRunId(run);
  return withConnection(target, async (connection) => {
    const record = await connection.requireRun(run);
    const states = await shardStates(connection, record);
    const shards = { total: states.length, done: 0, failed: 0, active: 0, waiting: 0, delayed: 0 };
    let rowsDone = 0;
    const failures: RunStatus['failures'] = [];
    for (const [shard, state] of states.entries()) {
      if (state === 'completed') {
        shards.done++;
        rowsDone += record.shardRows[shard];
      } else if (state === 'failed') {
        shards.failed++;
        const job = await connection.queue.getJob(shardJobId(run, shard));
        failures.push({ shard, ...failureOf(job?.failedReason) });
      } else if (state === 'active') shards.active++;
      else if (state === 'delayed') shards.delayed++;
      else shards.waiting++;
    }
    return { run, task: record.task, out: record.out, shards, rows: { total: record.rows, done: rowsDone }, failures };
  });
}
