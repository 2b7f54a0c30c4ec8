// ES module entry of bert-embed-native/queue: the same objects as the CommonJS build.
import queue from './index.js';

export const { addRun, startWorker, runStatus, collectRun, retryRun, removeRun, MAX_INLINE_ROWS, QUEUE_TASKS } = queue;
export type { AddRunOptions, AddRunResult, QueueTaskOptions, StartWorkerOptions, QueueWorker, ShardEvent, RunStatus, CollectResult, QueueTask, QueueTarget } from './index.js';
