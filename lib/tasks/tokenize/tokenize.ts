/** tokenize(): token ids exactly as the model sees them, with [CLS]/[SEP] and truncation to maxSeqLen. */
import { checkTexts } from '../shared/call-options.js';
import type { TaskContext } from '../shared/task-context.js';
import { tokenizeWithOffsets } from '../shared/text-rows.js';

export interface TokenizedText {
  tokens: string[];
  ids: number[];
  typeIds: number[];
  /** [start, end) UTF-16 offsets of each token into the text ([0, 0] for [CLS]/[SEP]; for 'A ||| B' into the whole string) */
  offsets: [number, number][];
}

export function tokenize(context: TaskContext, texts: string[]): TokenizedText[] {
  checkTexts(texts, false);
  return texts.map((text) => {
    const { tokens, ids, typeIds, offsets } = tokenizeWithOffsets(context, text, false);
    return { tokens, ids, typeIds, offsets };
  });
}
