// Hugging Face transformers' BertForMaskedLM as the reference of the masked-LM head: runs
// test/reference/hf_mlm.py with .venv/bin/python (made by `npm run setup`). Importing transformers costs
// seconds, so give one call as many jobs (and as many texts per job) as you can.
//
//   const [scores, fills] = runHfMlm([
//     { op: 'score', model: dir, texts, metric: 'whole_word', max_length: 32 },
//     { op: 'fill_mask', model: dir, texts: ['the cat [MASK] on the mat.'], top_k: 5 },
//   ]);
//
// Texts may be sentence pairs written 'A ||| B'. See hf_mlm.py's docstring for the exact semantics.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers.js';

/** The virtual environment's Python (BERT_EMBED_VENV_PYTHON overrides it). */
export const VENV_PYTHON = process.env.BERT_EMBED_VENV_PYTHON ?? path.join(repoRoot, '.venv', 'bin', 'python');
export const hfMlmScript = path.join(repoRoot, 'test', 'reference', 'hf_mlm.py');

export type PllMetric = 'original' | 'within_word_l2r' | 'whole_word';
export type HfDtype = 'float32' | 'float64';

interface HfJobBase {
  /** checkpoint directory (config.json, vocab.txt, tokenizer files, model.safetensors) */
  model: string;
  /** default 'float32' */
  dtype?: HfDtype;
}

export interface HfScoreJob extends HfJobBase {
  op: 'score';
  texts: string[];
  /** default 'original' */
  metric?: PllMetric;
  /** tokens including [CLS]/[SEP]; longest_first truncation; default 512 */
  max_length?: number;
}

export interface HfScoreResult {
  ids: number[];
  type_ids: number[];
  tokens: string[];
  /** [start, end) character offsets of every token in its own sentence; [0, 0] for [CLS]/[SEP] */
  offsets: [number, number][];
  /** indices (into ids) of the scored tokens: everything but [CLS] and the [SEP]s */
  positions: number[];
  /** log p(token) with the token (and, per metric, more of its word) masked; one per scored token */
  logprobs: number[];
  /** 1 + number of vocabulary ids with a strictly higher logit; one per scored token */
  ranks: number[];
  /** index into words of each scored token */
  word_of: number[];
  /** token indices (into ids) of each word: (sequence id, word id) groups of word_ids(), in order */
  words: number[][];
  /** sum of logprobs per word */
  word_logprobs: number[];
  /** sum of logprobs (the pseudo-log-likelihood) */
  total: number;
  truncated: boolean;
}

export interface HfFillMaskJob extends HfJobBase {
  op: 'fill_mask';
  texts: string[];
  /** default 5 */
  top_k?: number;
  /** restrict candidates to these (pipeline `targets`) */
  targets?: string[];
  /** truncate to this many tokens (default: no truncation, as the pipeline) */
  max_length?: number;
}

export interface HfFillMaskCandidate {
  token: number;
  /** softmax probability */
  score: number;
  token_str: string;
  /** the text with this candidate in place, as pipeline('fill-mask') decodes it (specials kept when >1 mask) */
  sequence: string;
}

export interface HfFillMaskResult {
  /** one per [MASK], in order */
  masks: { position: number; candidates: HfFillMaskCandidate[] }[];
}

export interface HfSparseJob extends HfJobBase {
  op: 'sparse';
  texts: string[];
  /** default 512 */
  max_length?: number;
}

export interface HfSparseResult {
  /** ascending vocabulary ids of the nonzero entries */
  indices: number[];
  values: number[];
}

export interface HfLogitsAtJob extends HfJobBase {
  op: 'logits_at';
  /** rows may differ in length: shorter rows are padded (with mask 0 unless attention_mask is given) */
  input_ids: number[][];
  token_type_ids?: number[][];
  attention_mask?: number[][];
  /** per row: the positions to read */
  positions: number[][];
  /** per row: one target id per position */
  targets: number[][];
  /** also return the full log-probability rows */
  full?: boolean;
}

export interface HfLogitsAtResult {
  /** [row][position] log p(target) */
  logprobs: number[][];
  /** [row][position] 1 + number of ids with a strictly higher logit */
  ranks: number[][];
  /** [row][position] raw logit of the target */
  logits: number[][];
  /** [row][position][vocab] log-probabilities, only with full: true */
  full?: number[][][];
}

export type HfMlmJob = HfScoreJob | HfFillMaskJob | HfSparseJob | HfLogitsAtJob;

export type HfMlmResultOf<J extends HfMlmJob> = J extends HfScoreJob
  ? HfScoreResult[]
  : J extends HfFillMaskJob
    ? HfFillMaskResult[]
    : J extends HfSparseJob
      ? HfSparseResult[]
      : J extends HfLogitsAtJob
        ? HfLogitsAtResult
        : never;

export type HfMlmResults<J extends readonly HfMlmJob[]> = { -readonly [K in keyof J]: J[K] extends HfMlmJob ? HfMlmResultOf<J[K]> : never };

function parseOutput(script: string, stdout: string, stderr: string, status: number | null, signal: string | null): unknown[] {
  if (status !== 0) throw new Error(`${path.basename(script)} failed (${status ?? signal}):\n${stderr}`);
  return (JSON.parse(stdout) as { results: unknown[] }).results;
}

/** Run jobs through test/reference/hf_mlm.py in one Python process (blocks until it is done). */
export function runHfMlm<const J extends readonly HfMlmJob[]>(jobs: J): HfMlmResults<J> {
  const r = spawnSync(VENV_PYTHON, [hfMlmScript], { input: JSON.stringify({ jobs }), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return parseOutput(hfMlmScript, r.stdout, r.stderr, r.status, r.signal) as HfMlmResults<J>;
}

/** One reference script's run over `{"jobs": [...]}` on stdin, off the event loop: its `results`. */
export function runReferenceScript(script: string, jobs: readonly unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(VENV_PYTHON, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      try {
        resolve(parseOutput(script, Buffer.concat(out).toString('utf8'), Buffer.concat(err).toString('utf8'), status, signal));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.end(JSON.stringify({ jobs }));
  });
}

/** runHfMlm without blocking the event loop (e.g. beside an Encoder that is loading). */
export function runHfMlmAsync<const J extends readonly HfMlmJob[]>(jobs: J): Promise<HfMlmResults<J>> {
  return runReferenceScript(hfMlmScript, jobs) as Promise<HfMlmResults<J>>;
}

type Options<J> = Omit<J, 'op' | 'model' | 'texts'>;

/** Pseudo-log-likelihood scores of texts (one Python process). */
export function hfScore(model: string, texts: string[], options: Options<HfScoreJob> = {}): HfScoreResult[] {
  return runHfMlm([{ op: 'score', model, texts, ...options }])[0];
}

/** pipeline('fill-mask') on texts (one Python process). */
export function hfFillMask(model: string, texts: string[], options: Options<HfFillMaskJob> = {}): HfFillMaskResult[] {
  return runHfMlm([{ op: 'fill_mask', model, texts, ...options }])[0];
}

/** SPLADE (max of log(1 + relu(logits))) sparse vectors of texts (one Python process). */
export function hfSparse(model: string, texts: string[], options: Options<HfSparseJob> = {}): HfSparseResult[] {
  return runHfMlm([{ op: 'sparse', model, texts, ...options }])[0];
}

/** Log-probabilities of targets at positions of explicit token rows (one Python process). */
export function hfLogitsAt(model: string, job: Omit<HfLogitsAtJob, 'op' | 'model'>): HfLogitsAtResult {
  return runHfMlm([{ op: 'logits_at', model, ...job }])[0];
}

/** Whether .venv/bin/python exists and has torch, transformers and safetensors (false before `npm run setup`). */
export function hfMlmAvailable(): boolean {
  if (!fs.existsSync(VENV_PYTHON)) return false;
  const check = 'import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "safetensors")))';
  return spawnSync(VENV_PYTHON, ['-c', check], { encoding: 'utf8' }).status === 0;
}
