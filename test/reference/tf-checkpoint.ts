// TensorFlow itself as the writer and reader of bert-as-service's checkpoints: runs test/reference/tf_checkpoint.py
// with .venv/bin/python (tensorflow-cpu from `npm run setup`). See the script's docstring for the jobs.

import path from 'node:path';
import { runReferenceScript } from './hf-mlm.js';
import { requireVenv } from './hf-embed.js';
import { repoRoot } from './helpers.js';

export const tfCheckpointScript = path.join(repoRoot, 'test', 'reference', 'tf_checkpoint.py');

export interface TfWriteJob {
  op: 'write';
  /** a Hugging Face checkpoint directory (model.safetensors, config.json, vocab.txt) */
  source: string;
  out: string;
  /** default 'bert_model.ckpt' */
  ckpt_name?: string;
  /** Google's config file written into out with vocab.txt (default 'bert_config.json'); null writes neither */
  config_name?: string | null;
  /** default 1 */
  shards?: 1 | 2;
  /** also adam_m/adam_v slots, global_step, cls/seq_relationship, output_weights/output_bias, a string tensor */
  extras?: boolean;
  /** variables written as DT_DOUBLE */
  float64?: string[];
  /** variables written as a slice (their first half of rows), as a partitioned variable is */
  sliced?: string[];
}

export interface TfWriteResult {
  prefix: string;
  /** the model's variables written (Google's names) */
  names: string[];
}

export interface TfReadJob {
  op: 'read';
  prefix: string;
  names: string[];
}

export interface TfTensor {
  dtype: string;
  shape: number[];
  values: Float64Array;
}

export type TfJob = TfWriteJob | TfReadJob;
type ResultOf<J> = J extends TfWriteJob ? TfWriteResult : J extends TfReadJob ? { tensors: TfTensor[] } : never;

/** Runs the jobs in one Python process (importing TensorFlow costs seconds); fails, saying to run `npm run setup`, without tensorflow. */
export async function runTensorFlow<const J extends readonly TfJob[]>(jobs: J): Promise<{ -readonly [K in keyof J]: ResultOf<J[K]> }> {
  requireVenv(['tensorflow', 'safetensors', 'torch']);
  const results = (await runReferenceScript(tfCheckpointScript, jobs)) as Record<string, unknown>[];
  for (const result of results) {
    for (const tensor of (result.tensors as { values: unknown }[] | undefined) ?? []) {
      const bytes = Buffer.from(tensor.values as string, 'base64');
      tensor.values = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    }
  }
  return results as never;
}
