/**
 * The tasks, one entry each: the Encoder method that runs it and the head it needs. Surfaces ask
 * which tasks a model can do here (with its capabilities) rather than probing by calling one.
 */
import type { HeadName, ModelCapabilities } from '../model/capabilities.js';

export interface TaskEntry {
  /** the task's folder under lib/tasks/ */
  name: string;
  /** the Encoder method */
  method: string;
  /** the head it runs on; undefined for tokenize, which runs none */
  head?: HeadName;
}

export const TASKS = [
  { name: 'tokenize', method: 'tokenize' },
  { name: 'embed', method: 'encode', head: 'pooled' },
  { name: 'score', method: 'score', head: 'maskedLm' },
  { name: 'fill-mask', method: 'fillMask', head: 'maskedLm' },
  { name: 'masked-lm-logprobs', method: 'maskedLmLogProbs', head: 'maskedLm' },
  { name: 'sparse', method: 'encodeSparse', head: 'sparse' },
  { name: 'rerank', method: 'rerank', head: 'classification' },
  { name: 'classify', method: 'classify', head: 'classification' },
  { name: 'classify-tokens', method: 'classifyTokens', head: 'tokenClassification' },
] as const satisfies readonly TaskEntry[];

export type TaskName = (typeof TASKS)[number]['name'];

/** The tasks a model can do. */
export function tasksOf(capabilities: ModelCapabilities): TaskName[] {
  return TASKS.filter((task: TaskEntry) => task.head === undefined || capabilities.has(task.head)).map((task) => task.name);
}

/** Refuses a task the model cannot do with the head's own coded error (what the task itself would throw). */
export function requireTask(capabilities: ModelCapabilities, name: TaskName): void {
  const task: TaskEntry = TASKS.find((entry) => entry.name === name)!;
  if (task.head) capabilities.require(task.head, task.method);
}
