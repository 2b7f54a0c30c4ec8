/**
 * bert-embed-native/queue: a corpus spread over machines on BullMQ. addRun cuts the input into
 * shards (one job each), startWorker runs them on any machine that sees the same paths, runStatus
 * tells where the run stands, collectRun concatenates the shards in input order.
 */
export { addRun, MAX_INLINE_ROWS, type AddRunOptions, type AddRunResult, type QueueTaskOptions } from './add-run.js';
export { startWorker, type StartWorkerOptions, type QueueWorker, type ShardEvent } from './queue-worker.js';
export { runStatus, type RunStatus } from './run-status.js';
export { collectRun, type CollectResult } from './collect-run.js';
export { retryRun, removeRun } from './manage-run.js';
export { QUEUE_TASKS, type QueueTask } from './run-record.js';
export type { QueueTarget } from './connection.js';
