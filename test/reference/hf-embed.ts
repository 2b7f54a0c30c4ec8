// Hugging Face as the ground truth of sentence embeddings: runs test/reference/hf_embed.py with .venv/bin/python
// (made by `npm run setup`): transformers' BertModel in float64 with bert-as-service's pooling written out in Python,
// and sentence-transformers' SentenceTransformer.encode. Importing transformers costs seconds, so give one call as
// many jobs (and as many texts and cases per job) as you can. See hf_embed.py's docstring for the exact semantics.
//
//   const [pooled, st] = await runHfEmbed([
//     { op: 'pool', model: dir, texts, max_length: 24, cases: [{ pooling: 'REDUCE_MEAN', layers: [-1], mask_cls_sep: false, normalize: false }] },
//     { op: 'sentence_transformers', model: stDir, texts },
//   ]);

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PoolingStrategy } from '../../lib/index.js';
import { runReferenceScript, VENV_PYTHON } from './hf-mlm.js';
import { repoRoot } from './helpers.js';

export const hfEmbedScript = path.join(repoRoot, 'test', 'reference', 'hf_embed.py');

export interface HfPoolCase {
  pooling: PoolingStrategy;
  layers: number[];
  mask_cls_sep: boolean;
  normalize: boolean;
}

export interface HfPoolJob {
  op: 'pool';
  /** checkpoint directory (config.json, vocab.txt, tokenizer files, model.safetensors) */
  model: string;
  /** texts, or pairs written 'A ||| B' */
  texts: string[];
  /** tokens including [CLS]/[SEP]; longest_first truncation; NONE pads to it */
  max_length: number;
  cases: HfPoolCase[];
  /** HF's add_special_tokens (default true) */
  add_special_tokens?: boolean;
  /** the tokenizer loaded with do_lower_case=False, strip_accents=False (default false) */
  cased?: boolean;
}

export interface HfPoolResult {
  ids: number[][];
  type_ids: number[][];
  truncated: boolean[];
  tokens: string[][];
  /** [case][text]: the vector (NONE: max_length x width, row-major) */
  vectors: Float64Array[][];
}

export interface HfSentenceTransformersJob {
  op: 'sentence_transformers';
  /** a sentence-transformers directory (modules.json, 1_Pooling/config.json, ...) */
  model: string;
  texts: string[];
}

export interface HfSentenceTransformersResult {
  /** SentenceTransformer.encode's float32 rows */
  embeddings: number[][];
  max_seq_length: number;
  /** class names of the modules, in order */
  modules: string[];
  /** token ids as SentenceTransformer tokenizes each text */
  ids: number[][];
}

export type HfEmbedJob = HfPoolJob | HfSentenceTransformersJob;
type ResultOf<J> = J extends HfPoolJob ? HfPoolResult : J extends HfSentenceTransformersJob ? HfSentenceTransformersResult : never;
export type HfEmbedResults<J extends readonly HfEmbedJob[]> = { -readonly [K in keyof J]: ResultOf<J[K]> };

/**
 * Throws, saying to run `npm run setup`, unless .venv/bin/python imports every module named (the tests that need
 * Hugging Face fail rather than skip without it).
 */
export function requireVenv(modules: string[]): void {
  if (!fs.existsSync(VENV_PYTHON)) {
    throw new Error(`${VENV_PYTHON} does not exist: run \`npm run setup\` (scripts/setup.sh) to make the Python virtual environment`);
  }
  const check = `import importlib.util, sys; missing = [m for m in ${JSON.stringify(modules)} if importlib.util.find_spec(m) is None]; print(' '.join(missing)); sys.exit(1 if missing else 0)`;
  const r = spawnSync(VENV_PYTHON, ['-c', check], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${VENV_PYTHON} cannot import ${r.stdout.trim() || modules.join(', ')}${r.stderr ? ` (${r.stderr.trim().split('\n').pop()})` : ''}: run \`npm run setup\``);
  }
}

function decodeFloat64(base64: string): Float64Array {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readDoubleLE(i * 8);
  return out;
}

/** Run jobs through test/reference/hf_embed.py in one Python process, off the event loop. */
export function runHfEmbed<const J extends readonly HfEmbedJob[]>(jobs: J): Promise<HfEmbedResults<J>> {
  requireVenv(jobs.some((job) => job.op === 'sentence_transformers') ? ['torch', 'transformers', 'safetensors', 'sentence_transformers'] : ['torch', 'transformers', 'safetensors']);
  return runReferenceScript(hfEmbedScript, jobs).then((results) => {
    for (const result of results as Record<string, unknown>[]) {
      // pool's vectors come as base64 of float64 little-endian bytes
      if (Array.isArray(result.vectors)) result.vectors = (result.vectors as string[][]).map((perText) => perText.map(decodeFloat64));
    }
    return results as HfEmbedResults<J>;
  });
}
