/** retryRun and removeRun: the verbs a BullMQ user reaches for when a run went wrong. */
import { checkRunId, shardJobId } from './run-record.js';
import { withConnection, type QueueTarget } from './connection.js';
import { shardStates } from './run-status.js';

/** Moves the run's failed shards back to waiting (their attempts start again); returns how many. */
export function retryRun(target: QueueTarget, run: string): Promise<number> {
  checkRunId(run);
  return withConnection(target, async (connection) => {
    const record = await connection.requireRun(run);
    const states = await shardStates(connection, record);
    let retried = 0;
    for (const [shard, state] of states.entries()) {
      if (state !== 'failed') continue;
      const job = await connection.queue.getJob(shardJobId(run, shard));
      await job!.retry('failed');
      retried++;
    }
    return retried;
  });
}

/**
 * Removes the run's jobs and its record (the shards already written under OUT/RUN/ stay). Shards
 * being worked on are locked by their workers and are not removed: they are counted, and the call
 * can be made again once they finish.
 */
export function removeRun(target: QueueTarget, run: string): Promise<{ removed: number; active: number }> {
  checkRunId(run);
  return withConnection(target, async (connection) => {
    const record = await connection.requireRun(run);
    let removed = 0;
    let active = 0;
    for (let shard = 0; shard < record.shardRows.length; shard++) {
      const id = shardJobId(run, shard);
      const result = await connection.queue.remove(id);
      if (result === 1) removed++;
      else if ((await connection.queue.getJobState(id)) === 'active') active++;
    }
    if (active === 0) await connection.deleteRun(run);
    return { removed, active };
  });
}
