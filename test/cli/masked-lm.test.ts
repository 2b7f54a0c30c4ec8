// `bert-embed score`, `fill-mask` and `info`'s heads, run as real processes and compared with the
// in-process Encoder.score / Encoder.fillMask on the same checkpoint and options.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import type { SentenceScore } from '../../lib/tasks/index.js';
import type { FillMaskCandidate } from '../../lib/tasks/index.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { stsSentences } from '../helpers/sts.js';
import { jsonLines, runCli } from './run-cli.js';

const MLM = checkpointDir('mlm-tiny');
const NO_HEAD = checkpointDir('tiny');
const MAX_SEQ_LEN = '32';
let work: string;
let encoder: Encoder;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-cli-mlm-'));
  encoder = await Encoder.load(MLM, { maxSeqLen: Number(MAX_SEQ_LEN) });
});
afterAll(async () => {
  await encoder?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function writeInput(name: string, text: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, text);
  return file;
}

// The CLI's batches are not the test's, so float32 sums may differ in their last bits: numbers are
// compared to 1e-4, and a rank (a count of higher logits) may move by one past a near tie.
function expectScoresClose(records: Record<string, unknown>[], expected: SentenceScore[]): void {
  expect(records).toHaveLength(expected.length);
  records.forEach((record, i) => {
    const want = expected[i];
    const label = `sentence ${i}`;
    const tokens = record.tokens as SentenceScore['tokens'];
    const words = record.words as SentenceScore['words'];
    expect(tokens.map(({ token, id, start, end }) => ({ token, id, start, end })), label).toEqual(want.tokens.map(({ token, id, start, end }) => ({ token, id, start, end })));
    tokens.forEach((token, t) => {
      expect(token.logprob, `${label} token ${t}`).toBeCloseTo(want.tokens[t].logprob, 4);
      expect(Math.abs(token.rank - want.tokens[t].rank), `${label} token ${t} rank`).toBeLessThanOrEqual(1);
    });
    expect(words.map(({ word, start, end, tokens: pieces }) => ({ word, start, end, pieces })), label).toEqual(want.words.map(({ word, start, end, tokens: pieces }) => ({ word, start, end, pieces })));
    words.forEach((word, w) => expect(word.logprob, `${label} word ${w}`).toBeCloseTo(want.words[w].logprob, 4));
    expect(record.pll as number, label).toBeCloseTo(want.pll, 3);
    expect((record.pseudoPerplexity as number) / want.pseudoPerplexity, label).toBeCloseTo(1, 4);
    expect((record.wordPseudoPerplexity as number) / want.wordPseudoPerplexity, label).toBeCloseTo(1, 4);
    expect(record.truncated, label).toBe(want.truncated);
  });
}

function expectCandidatesClose(records: Record<string, unknown>[], expected: FillMaskCandidate[][][]): void {
  expect(records).toHaveLength(expected.length);
  records.forEach((record, i) => {
    const masks = record.masks as { score: number; token: number; token_str: string; sequence: string }[][];
    expect(masks.map((candidates) => candidates.map(({ token, token_str, sequence }) => ({ token, token_str, sequence }))), `text ${i}`).toEqual(
      expected[i].map((candidates) => candidates.map(({ token, tokenStr, sequence }) => ({ token, token_str: tokenStr, sequence }))),
    );
    masks.forEach((candidates, m) => candidates.forEach((candidate, k) => expect(candidate.score / expected[i][m][k].score, `text ${i} mask ${m} #${k}`).toBeCloseTo(1, 4)));
  });
}

describe('bert-embed score', () => {
  it('writes one JSON line per input line, in order across chunks, equal to Encoder.score for each metric', async () => {
    const sentences = stsSentences('test').slice(0, 100); // two of the CLI's chunks, in flight together
    const input = writeInput('sentences.txt', `${sentences.join('\n')}\n`);
    const byDefault = await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, input]);
    expect(byDefault.stderr).toBe('');
    expect(byDefault.code).toBe(0);
    const records = jsonLines(byDefault.stdout);
    expect(records.map((r) => r.line)).toEqual(sentences.map((_, i) => i + 1));
    expect(Object.keys(records[0])).toEqual(['line', 'tokens', 'words', 'pll', 'pseudoPerplexity', 'wordPseudoPerplexity', 'truncated']);
    expectScoresClose(records, await encoder.score(sentences));

    const few = sentences.slice(0, 20);
    const fewFile = writeInput('few.txt', few.join('\n'));
    for (const metric of ['original', 'whole_word'] as const) {
      const output = path.join(work, `${metric}.jsonl`);
      const result = await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, '--metric', metric, fewFile, '-o', output]);
      expect(result.code, metric).toBe(0);
      expect(result.stdout.length, metric).toBe(0);
      expectScoresClose(jsonLines(fs.readFileSync(output)), await encoder.score(few, { metric }));
    }
  });

  it('reads stdin: empty lines and pairs are scored, truncation is reported', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const lines = ['The cat sat on the mat.', '', 'unbelievable tokenization ||| second half', long];
    const result = await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN], { input: `${lines.join('\n')}\n` });
    expect(result.stderr).toBe(''); // no progress bar when stderr is not a terminal
    expect(result.code).toBe(0);
    const records = jsonLines(result.stdout);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4]);
    expect(records.map((r) => r.truncated)).toEqual([false, false, false, true]);
    expectScoresClose(records, await encoder.score(lines));

    const skipped = jsonLines((await runCli(['score', '-m', MLM, '--skip-empty', '-q'], { input: `${lines.join('\n')}\n` })).stdout);
    expect(skipped.map((r) => r.line)).toEqual([1, 3, 4]);
  });

  it('--format tsv: word<TAB>probability lines, a blank line between sentences', async () => {
    const lines = ['The cat sat on the mat.', 'Unbelievable, isn\u2019t it?', 'hello'];
    const result = await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, '--format', 'tsv'], { input: lines.join('\n') });
    expect(result.code).toBe(0);
    const text = result.stdout.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(false);
    const blocks = text.slice(0, -1).split('\n\n');
    const expected = await encoder.score(lines);
    expect(blocks).toHaveLength(lines.length);
    blocks.forEach((block, i) => {
      const rows = block.split('\n').map((row) => row.split('\t'));
      expect(rows.map((row) => row.length)).toEqual(rows.map(() => 2));
      expect(rows.map(([word]) => word)).toEqual(expected[i].words.map((word) => word.word));
      rows.forEach(([, probability], w) => {
        expect(Number(probability)).toBeGreaterThan(0);
        expect(Number(probability) / Math.exp(expected[i].words[w].logprob)).toBeCloseTo(1, 4);
      });
    });

    // An -o file named .tsv picks the format.
    const output = path.join(work, 'scores.tsv');
    expect((await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, '-o', output], { input: lines.join('\n') })).code).toBe(0);
    expect(fs.readFileSync(output, 'utf8').split('\n\n')).toHaveLength(lines.length);
  });

  it('reads a TSV column, and says which file each line came from when given several', async () => {
    const rows = [
      ['1', 'A man is playing a guitar.'],
      ['2', 'The weather is nice today.'],
      ['3', 'Scoring sentences with BERT.'],
    ];
    const tsv = writeInput('sentences.tsv', `id\ttext\n${rows.map((row) => row.join('\t')).join('\n')}\n`);
    const result = await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, '--column', 'text', tsv]);
    expect(result.code).toBe(0);
    const records = jsonLines(result.stdout);
    expect(records.map((r) => r.line)).toEqual([2, 3, 4]);
    expectScoresClose(records, await encoder.score(rows.map((row) => row[1])));

    const text = writeInput('one.txt', 'a second file\n');
    const both = jsonLines((await runCli(['score', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, text, text])).stdout);
    expect(both.map((r) => [r.source, r.line])).toEqual([
      [text, 1],
      [text, 1],
    ]);
  });

  it('rejects an unknown --metric (exit 2) and a checkpoint without the masked-LM head (exit 1)', async () => {
    const badMetric = await runCli(['score', '-m', MLM, '--metric', 'bogus'], { input: 'a\n' });
    expect(badMetric.code).toBe(2);
    expect(badMetric.stderr).toMatch(/--metric/);
    expect(badMetric.stderr).toMatch(/within_word_l2r/);

    const plain = await Encoder.load(NO_HEAD);
    let scoreMessage = '';
    let fillMessage = '';
    try {
      expect(plain.heads).toEqual(['pooled']);
      await plain.score(['a']).catch((error: Error & { code?: string }) => {
        expect(error.code).toBe('ERR_NO_MLM_HEAD');
        scoreMessage = error.message;
      });
      await plain.fillMask(['a [MASK]']).catch((error: Error) => (fillMessage = error.message));
    } finally {
      await plain.close();
    }
    expect(scoreMessage).not.toBe('');
    const score = await runCli(['score', '-m', NO_HEAD], { input: 'a sentence\n' });
    expect(score.code).toBe(1);
    expect(score.stderr).toBe(`bert-embed: ${scoreMessage}\n`);
    expect(score.stdout.length).toBe(0);
    const fill = await runCli(['fill-mask', '-m', NO_HEAD], { input: 'a [MASK]\n' });
    expect(fill.code).toBe(1);
    expect(fill.stderr).toBe(`bert-embed: ${fillMessage}\n`);
  });
});

describe('bert-embed fill-mask', () => {
  it('writes the top-k candidates of every [MASK], equal to Encoder.fillMask', async () => {
    const lines = ['Paris is the [MASK] of France.', 'The [MASK] sat on the [MASK].', '[MASK] ||| a pair with a [MASK] in each half'];
    const input = writeInput('cloze.txt', `${lines.join('\n')}\n`);
    const result = await runCli(['fill-mask', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, '--top-k', '3', input]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const records = jsonLines(result.stdout);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect((records[1].masks as unknown[]).length).toBe(2);
    expect(Object.keys((records[0].masks as Record<string, unknown>[][])[0][0])).toEqual(['score', 'token', 'token_str', 'sequence']);
    expectCandidatesClose(records, await encoder.fillMask(lines, { topK: 3 }));

    const byDefault = jsonLines((await runCli(['fill-mask', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN], { input: lines[0] })).stdout);
    expectCandidatesClose(byDefault, await encoder.fillMask([lines[0]]));
    expect((byDefault[0].masks as unknown[][])[0]).toHaveLength(5);
  });

  it('stops with exit 1 at a line without [MASK], naming the file and line', async () => {
    const input = writeInput('missing.txt', 'one [MASK] here\nnone here\nanother [MASK]\n');
    const result = await runCli(['fill-mask', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN, input]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`bert-embed: ${input}:2: no [MASK] within the first ${MAX_SEQ_LEN} tokens; fill-mask needs one in every line\n`);

    // A [MASK] past --max-seq-len is not seen by the model either.
    const late = `${Array.from({ length: 40 }, () => 'word').join(' ')} [MASK]`;
    const truncated = await runCli(['fill-mask', '-m', MLM, '--max-seq-len', MAX_SEQ_LEN], { input: late });
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/^bert-embed: -:1: no \[MASK\] within the first 32 tokens/);
  });

  it('rejects --top-k 0 (exit 2)', async () => {
    const result = await runCli(['fill-mask', '-m', MLM, '--top-k', '0'], { input: 'a [MASK]\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--top-k/);
  });
});

describe('bert-embed info', () => {
  it("shows the model's heads, in JSON and in text", async () => {
    const withHead = await runCli(['info', '-m', MLM, '--json']);
    expect(withHead.code).toBe(0);
    expect((JSON.parse(withHead.stdout.toString()) as { heads: string[] }).heads).toEqual([...encoder.heads]);
    expect(encoder.heads).toEqual(['pooled', 'maskedLm', 'sparse']);
    const withoutHead = await runCli(['info', '-m', NO_HEAD, '--json']);
    expect((JSON.parse(withoutHead.stdout.toString()) as { heads: string[] }).heads).toEqual(['pooled']);

    expect((await runCli(['info', '-m', MLM])).stdout.toString()).toMatch(/^heads: pooled maskedLm sparse$/m);
    expect((await runCli(['info', '-m', NO_HEAD])).stdout.toString()).toMatch(/^heads: pooled$/m);
  });

  it('tells the heads of an exported model.pt (by loading it)', async () => {
    const exported = path.join(work, 'mlm-exported');
    const result = await runCli(['export', MLM, exported]);
    expect(result.code, result.stderr).toBe(0);
    const info = await runCli(['info', '-m', exported, '--json']);
    expect(info.stderr).toBe('');
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.stdout.toString()) as { heads: string[]; weights: { format: string } };
    expect(parsed.weights.format).toBe('torchscript');
    expect(parsed.heads).toEqual(['pooled', 'maskedLm', 'sparse']);
  });
});
