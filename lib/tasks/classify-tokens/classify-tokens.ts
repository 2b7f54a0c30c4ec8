/**
 * classifyTokens(): the labels of each text's tokens from BertForTokenClassification's head, as
 * transformers' token-classification pipeline gives them: per token ('none'), or grouped into
 * entities ('simple', 'first', 'average', 'max'). A text longer than maxSeqLen is labelled in
 * overlapping windows with `stride`, else cut (truncate, the default) or refused.
 */
import { fieldError } from '../../validation.js';
import { checkTexts } from '../shared/call-options.js';
import { inputTooLong } from '../shared/input-too-long.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { decodeWindows, planWindows, type ContentWindow, type TokenEntity, type WindowToken } from './entities.js';
import { CLASSIFY_TOKENS_OPTIONS, specialTokenCount, type ClassifyTokensOptions } from './options.js';

export { AGGREGATION_STRATEGIES, type AggregationStrategy, type TokenEntity } from './entities.js';
export type { ClassifyTokensOptions } from './options.js';

/** One window of a text: its tokens (with [CLS]/[SEP]) as the model sees them, and where each came from. */
interface TextWindow {
  text: number;
  ids: number[];
  tokens: WindowToken[];
}

export async function classifyTokens(context: TaskContext, texts: string[] | string[][], options: ClassifyTokensOptions): Promise<TokenEntity[][]> {
  const read = readTaskOptions('classifyTokens', options, CLASSIFY_TOKENS_OPTIONS, context);
  const { aggregationStrategy: strategy, ignoreLabels, stride, isTokenized, truncate, signal } = read;
  const specials = specialTokenCount(context);
  const capacity = context.maxTokens - specials;
  if (stride !== undefined && strategy === 'none') {
    throw fieldError(RangeError, 'aggregationStrategy', "'simple', 'first', 'average' or 'max' with stride (as the pipeline)", strategy);
  }
  checkTexts(texts, isTokenized);
  const classifier = context.capabilities.requireClassifier('tokenClassification', 'classifyTokens');
  const { tokenizer } = context;
  const sentences = [...texts].map((text) => (isTokenized ? (text as string[]).join(' ') : (text as string)));
  const windows: TextWindow[] = [];
  sentences.forEach((sentence, index) => {
    const content = tokenizer.encodeWithOffsets(sentence, undefined, { addSpecialTokens: false, splitPairs: false });
    if (content.ids.length > capacity && stride === undefined && !truncate) {
      throw inputTooLong(`texts[${index}]`, content.ids.length + specials, context.maxTokens);
    }
    for (const { start, end } of planWindows(content.ids.length, capacity + 2, stride)) {
      const tokens: WindowToken[] = [];
      for (let i = start; i < end; i++) tokens.push({ token: content.tokens[i], id: content.ids[i], start: content.offsets[i][0], end: content.offsets[i][1] });
      const ids = content.ids.slice(start, end);
      windows.push({ text: index, ids: specials ? [tokenizer.clsId, ...ids, tokenizer.sepId] : ids, tokens });
    }
  });
  const labelCount = classifier.labels.length;
  const rowWidth = context.maxTokens * labelCount;
  const logits = await context.submit({
    count: windows.length,
    tokenize: (start, end) => windows.slice(start, end).map((window) => ({ ids: window.ids, typeIds: new Array<number>(window.ids.length).fill(0) })),
    head: { kind: 'tokenClassification', outputSeqLen: context.maxTokens },
    rowWidth,
    rowLabel: (row) => `texts[${windows[row].text}]`,
    signal,
  });
  const first = specials / 2; // the first content token's row
  const windowsOf = sentences.map((): ContentWindow[] => []);
  windows.forEach((window, row) => {
    const at = row * rowWidth;
    const logitsOf = (i: number) => logits.subarray(at + (first + i) * labelCount, at + (first + i + 1) * labelCount);
    windowsOf[window.text].push({ tokens: window.tokens, logits: logitsOf, firstIndex: first });
  });
  const decoding = { labels: classifier.labels, strategy, ignoreLabels, unkId: tokenizer.unkId };
  return sentences.map((sentence, index) => decodeWindows(sentence, windowsOf[index], decoding));
}
