/** What Encoder.status() reports, like bert-as-service's server_status. */
import type { ResolvedEncoderOptions } from '../options.js';
import type { PoolCounters } from '../engine/pool-statistics.js';

export interface EncoderStatus extends PoolCounters {
  modelDir: string;
  /** the options in force, defaults filled in */
  options: Readonly<ResolvedEncoderOptions>;
  /** the device of each worker (model replica) */
  devices: string[];
  /** what the model answers: 'pooled', and 'maskedLm' and 'sparse' with BertForMaskedLM's head */
  heads: string[];
  startedAt: string;
  uptimeMs: number;
  /** tokenized sentences waiting for a batch */
  queuedSentences: number;
  /** sentences of calls not yet settled: waiting, being encoded, or not yet tokenized */
  outstandingSentences: number;
  /** workers running a batch now */
  busyWorkers: number;
  closed: boolean;
  torchVersion: string;
}
