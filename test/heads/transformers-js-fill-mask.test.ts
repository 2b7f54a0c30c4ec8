/**
 * encoder.fillMask against transformers.js's fill-mask pipeline (onnxruntime-node) on an ONNX export of the same
 * BertForMaskedLM weights (scripts/export-onnx.py --mlm: transformers' own BertForMaskedLM, torch.onnx.export):
 * 200 STS-B test sentences, each with one whole word replaced by [MASK] (transformers.js fills only the first
 * [MASK] of a text), top-5 ids identical and probabilities within 1e-4.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder, type FillMaskCandidate } from '../../lib/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';
import { makeFixtureDir, removeFixtureDir, repoRoot } from '../reference/helpers.js';

// MiniLM with its own decoder: the top candidate has a probability about 900 / V (test/helpers/checkpoints.ts),
// so candidates are far enough apart for their order to mean something, and the untied decoder is exercised.
const CHECKPOINT = 'mlm-minilm-untied' as const;
const SENTENCE_COUNT = 200;
const TOP_K = 5;
const MAX_SEQ_LEN = 128;
/** pipeline calls of this many texts (each call pads to its longest) */
const CHUNK = 25;

interface PipelineCandidate {
  score: number;
  token: number;
  token_str: string;
  sequence: string;
}
type FillMaskPipeline = ((texts: string[], options: { top_k: number }) => Promise<PipelineCandidate[][]>) & { dispose(): Promise<void> };

/**
 * The middle one of a sentence's whole words (letters only, between spaces) replaced by [MASK]; null for a
 * sentence without one. Evenly spaced over the STS-B test sentences that have one.
 */
function maskedSentences(count: number): string[] {
  const masked = stsSentences('test').flatMap((sentence) => {
    const words = sentence.split(' ');
    const candidates = words.flatMap((word, i) => (/^[A-Za-z]+$/.test(word) ? [i] : []));
    if (candidates.length === 0) return [];
    words[candidates[Math.floor(candidates.length / 2)]] = '[MASK]';
    return [words.join(' ')];
  });
  const step = Math.floor(masked.length / count);
  return Array.from({ length: count }, (_, i) => masked[i * step]);
}

/**
 * Pairs our candidates with the pipeline's rank by rank. Where the ids differ, the two must be a swapped
 * neighbouring pair whose probabilities differ by less than 1e-6: random weights can put two logits that close,
 * and float32 arithmetic done in another order (libtorch's kernels against onnxruntime's) may then rank them the
 * other way round. `ours` and `theirs` hold one candidate more than is compared, so a tie between the last
 * compared rank and the next one is told apart from a wrong candidate. Returns the ranks swapped.
 */
function pairUp(ours: FillMaskCandidate[], theirs: PipelineCandidate[], label: string): number {
  let swaps = 0;
  for (let rank = 0; rank < TOP_K; rank++) {
    if (ours[rank].token === theirs[rank].token) continue;
    const swapped = ours[rank].token === theirs[rank + 1].token && ours[rank + 1].token === theirs[rank].token;
    expect(swapped, `${label}: rank ${rank + 1} is ${ours[rank].token} in ours, ${theirs[rank].token} in transformers.js`).toBe(true);
    expect(Math.abs(ours[rank].score - ours[rank + 1].score), `${label}: ranks ${rank + 1}, ${rank + 2} swapped but not tied`).toBeLessThan(1e-6);
    swaps++;
    rank++;
  }
  return swaps;
}

describe('encoder.fillMask against transformers.js fill-mask on an ONNX export of the same weights', () => {
  const texts = maskedSentences(SENTENCE_COUNT);
  let work: string;
  let encoder: Encoder;
  let pipe: FillMaskPipeline;

  beforeAll(async () => {
    // A copy of the shared checkpoint: test/setup/global.ts of a vitest run started meanwhile rewrites it.
    work = makeFixtureDir('transformers-js-fill-mask');
    const checkpoint = path.join(work, 'checkpoint');
    fs.cpSync(checkpointDir(CHECKPOINT), checkpoint, { recursive: true });
    const onnxDir = path.join(work, 'onnx');
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'export-onnx.py'), '--mlm', checkpoint, onnxDir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = work;
    [pipe, encoder] = await Promise.all([
      pipeline('fill-mask', 'onnx', { dtype: 'fp32' }) as unknown as Promise<FillMaskPipeline>,
      Encoder.load(checkpoint, { maxSeqLen: MAX_SEQ_LEN }),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled([encoder?.close(), pipe?.dispose()]);
    if (work) removeFixtureDir(work);
  });

  it('picks 200 sentences, each with one [MASK] well within maxSeqLen', () => {
    expect(texts.length).toBe(SENTENCE_COUNT);
    expect(new Set(texts).size).toBeGreaterThan(SENTENCE_COUNT * 0.95);
    for (const text of texts) {
      expect(text.split('[MASK]').length, text).toBe(2);
      expect(encoder.tokenizer.encode(text).ids.length, text).toBeLessThan(MAX_SEQ_LEN);
    }
  });

  it('gives the same top-5 ids with probabilities within 1e-4, and the same strings', async () => {
    const ours = await encoder.fillMask(texts, { topK: TOP_K + 1 });
    const theirs: PipelineCandidate[][] = [];
    for (let start = 0; start < texts.length; start += CHUNK) theirs.push(...(await pipe(texts.slice(start, start + CHUNK), { top_k: TOP_K + 1 })));
    expect(theirs.length).toBe(texts.length);
    let swaps = 0;
    let worst = 0;
    texts.forEach((text, t) => {
      expect(ours[t].length, text).toBe(1);
      const [candidates] = ours[t];
      const label = `text ${t} ${JSON.stringify(text)}`;
      swaps += pairUp(candidates, theirs[t], label);
      // Compared by id, so a swapped near-tie compares each id's own probability.
      const expected = new Map(theirs[t].map((candidate) => [candidate.token, candidate]));
      for (const candidate of candidates.slice(0, TOP_K)) {
        const other = expected.get(candidate.token)!;
        const difference = Math.abs(candidate.score - other.score);
        worst = Math.max(worst, difference);
        expect(difference, `${label} id ${candidate.token}`).toBeLessThan(1e-4);
        expect(candidate.tokenStr, label).toBe(other.token_str);
        expect(candidate.sequence, label).toBe(other.sequence);
      }
    });
    // Near-ties are rare: a handful at most, or something else is going on.
    expect(swaps).toBeLessThanOrEqual(3);
    console.log(`fill-mask against transformers.js: ${texts.length} texts, worst |Δ probability| ${worst.toExponential(2)}, near-tie swaps ${swaps}`);
  });
});
