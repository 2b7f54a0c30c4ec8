/**
 * score(): each sentence's pseudo-log-likelihood from the masked-LM head, gathered into words. Each
 * masked copy of a sentence is one row for the engine, batched by length with every other call's rows.
 */
import { checkTexts } from '../shared/call-options.js';
import { MaskedLmHead, maskIdOf } from '../shared/masked-lm-head.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { checkEveryTextHasTokens, isTruncated, tokenizeWithOffsets } from '../shared/text-rows.js';
import { SCORE_OPTIONS, type ScoreOptions } from './options.js';
import { type SentenceScore, SentenceScoring } from './sentence-scoring.js';

export type { ScoreOptions } from './options.js';

export async function score(context: TaskContext, texts: string[] | string[][], options: ScoreOptions): Promise<SentenceScore[]> {
  const { isTokenized, splitPairs, signal, metric } = readTaskOptions('score', options, SCORE_OPTIONS, context);
  checkTexts(texts, isTokenized);
  context.capabilities.require('maskedLm', 'score');
  checkEveryTextHasTokens(context, texts, isTokenized, splitPairs);
  const sentences = [...texts].map(
    (text) => new SentenceScoring(text, tokenizeWithOffsets(context, text, isTokenized, splitPairs), isTruncated(context, text, isTokenized, splitPairs), metric),
  );
  const head = new MaskedLmHead(Math.max(1, ...sentences.map((sentence) => sentence.slotsNeeded)), 0);
  // Row r of the call is copy copyOf[r] of sentence ownerOf[r].
  const firstRow = [0];
  for (const sentence of sentences) firstRow.push(firstRow[firstRow.length - 1] + sentence.copyCount);
  const ownerOf = new Int32Array(firstRow[sentences.length]);
  sentences.forEach((sentence, i) => ownerOf.fill(i, firstRow[i], firstRow[i + 1]));
  const maskId = maskIdOf(context);
  const answers = await context.submit({
    count: ownerOf.length,
    tokenize: (start, end) => {
      const rows = [];
      for (let row = start; row < end; row++) rows.push(sentences[ownerOf[row]].copy(row - firstRow[ownerOf[row]], maskId, head.slots));
      return rows;
    },
    head: head.spec,
    rowWidth: head.rowWidth,
    rowLabel: (row) => `texts[${ownerOf[row]}]`,
    inputs: { field: 'texts', rows: (count) => `${count} masked copies of ${sentences.length} input(s) (one per scored token or word)` },
    signal,
  });
  return sentences.map((sentence, i) => sentence.result((copy, slot) => head.answer(answers, firstRow[i] + copy, slot)));
}
