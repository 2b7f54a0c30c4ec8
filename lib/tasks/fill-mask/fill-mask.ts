/** fillMask(): the masked-LM head's topK most likely tokens at every [MASK], one list per [MASK], as transformers.js's fill-mask pipeline gives for one. */
import { fieldError } from '../../validation.js';
import { checkTexts } from '../shared/call-options.js';
import { MaskedLmHead, maskIdOf } from '../shared/masked-lm-head.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { tokenizeText } from '../shared/text-rows.js';
import { type FillMaskCandidate, fillMaskResult, fillMaskRow, maskPositions } from './candidates.js';
import { FILL_MASK_OPTIONS, type FillMaskOptions } from './options.js';

export type { FillMaskOptions } from './options.js';

export async function fillMask(context: TaskContext, texts: string[] | string[][], options: FillMaskOptions): Promise<FillMaskCandidate[][][]> {
  const { isTokenized, splitPairs, signal, topK } = readTaskOptions('fillMask', options, FILL_MASK_OPTIONS, context);
  checkTexts(texts, isTokenized);
  context.capabilities.require('maskedLm', 'fillMask');
  const maskId = maskIdOf(context);
  const encodings = [...texts].map((text) => tokenizeText(context, text, isTokenized, splitPairs));
  const masks = encodings.map((encoding, i) => {
    const positions = maskPositions(encoding, maskId);
    if (positions.length === 0) {
      const mask = context.tokenizer.config.maskToken;
      throw fieldError(RangeError, `texts[${i}]`, `a text with ${mask} within its first maxSeqLen (${context.maxTokens}) tokens`, texts[i]);
    }
    return positions;
  });
  const head = new MaskedLmHead(Math.max(...masks.map((positions) => positions.length), 1), topK);
  const answers = await context.submit({
    count: encodings.length,
    tokenize: (start, end) => encodings.slice(start, end).map((encoding, i) => fillMaskRow(encoding, masks[start + i], head.slots)),
    head: head.spec,
    rowWidth: head.rowWidth,
    signal,
  });
  return encodings.map((encoding, i) => fillMaskResult(context.tokenizer, encoding, masks[i], (slot) => head.answer(answers, i, slot), topK));
}
