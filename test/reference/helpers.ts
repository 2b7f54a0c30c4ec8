// Shared helpers for tests that need random-weight checkpoints, traced TorchScript models and the torch helper.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.BERT_EMBED_SHARED ? path.resolve(process.env.BERT_EMBED_SHARED) : path.resolve(repoRoot, '..', 'shared');
export const sharedModel = (name: string) => path.join(sharedDir, 'models', name);
/** The Python that has torch + numpy (the first python3 on PATH may not). */
export const PYTHON = process.env.BERT_EMBED_PYTHON ?? '/usr/bin/python3';
export const fixturesRoot = path.join(repoRoot, '.fixtures');
export const traceScript = path.join(repoRoot, 'scripts', 'trace-hf-style.py');
export const torchHelperScript = path.join(repoRoot, 'test', 'reference', 'torch_helper.py');

/** A fresh directory under .fixtures/ (gitignored). */
export function makeFixtureDir(name: string): string {
  fs.mkdirSync(fixturesRoot, { recursive: true });
  return fs.mkdtempSync(path.join(fixturesRoot, `${name}-`));
}

export function removeFixtureDir(dir: string): void {
  if (process.env.KEEP_FIXTURES) return;
  if (!path.resolve(dir).startsWith(fixturesRoot + path.sep)) throw new Error(`refusing to remove ${dir}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface TraceInfo {
  out: string;
  layers: number;
  hidden: number;
  /** max |traced - eager| on a 3 x 19 padded batch (the script fails above 1e-5) */
  check_max_abs_diff: number;
}

/** Trace several [checkpointDir, outFile] pairs with scripts/trace-hf-style.py in one Python process. */
export function traceCheckpoints(pairs: [checkpointDir: string, outFile: string][]): TraceInfo[] {
  const r = spawnSync(PYTHON, [traceScript, ...pairs.flat()], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`trace-hf-style.py failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  const infos = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TraceInfo);
  if (infos.length !== pairs.length) throw new Error(`trace-hf-style.py reported ${infos.length} traces for ${pairs.length} pairs`);
  return infos;
}

/** Trace CHECKPOINT_DIR into OUT_FILE with scripts/trace-hf-style.py (throws with its stderr on failure). */
export function traceCheckpoint(checkpointDir: string, outFile: string): TraceInfo {
  return traceCheckpoints([[checkpointDir, outFile]])[0];
}

export interface TorchRunJob {
  op?: 'run';
  model: string;
  input_ids: number[][];
  attention_mask?: number[][];
  token_type_ids?: number[][];
}
export interface TorchRunResult {
  last_hidden_state: number[][][];
  pooler_output: number[][];
  /** [L+1][B][T][H] */
  hidden_states: number[][][][];
}
export type TorchBitsJob = { op: 'f16' | 'bf16'; bits: number[] };

/** Run jobs through test/reference/torch_helper.py in one Python process. */
export function runTorchHelper(jobs: TorchRunJob[]): TorchRunResult[];
export function runTorchHelper(jobs: TorchBitsJob[]): { bits: number[] }[];
export function runTorchHelper(jobs: unknown[]): unknown[] {
  const out = execFileSync(PYTHON, [torchHelperScript], {
    input: JSON.stringify({ jobs }),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return JSON.parse(out).results;
}

/** Whether PYTHON can import torch and numpy. */
export function torchAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Deterministic pseudo-random token ids in [lo, hi) (mulberry32). */
export function randomIds(seed: number, n: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(lo + Math.floor(u * (hi - lo)));
  }
  return out;
}
