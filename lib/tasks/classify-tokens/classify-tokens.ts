/**
 * classifyTokens(): the labels of each text's tokens from BertForTokenClassification's head, as
 * transformers' token-classification pipeline gives them: per token ('none'), or grouped into
 * entities ('simple', 'first', 'average', 'max'). A text longer than maxSeqLen is labelled in
 * overlapping windows with `stride`, else cut (truncate, the default) or refused.
 */
import { assertStringArray, checkOneOf, expectationMessage, fieldError } from '../../validation.js';
import { booleanOption, checkTexts, readCallOptions } from '../shared/call-options.js';
import { inputTooLong } from '../shared/input-too-long.js';
import type { TaskContext } from '../shared/task-context.js';
import { AGGREGATION_STRATEGIES, checkStride, decodeWindows, planWindows, type AggregationStrategy, type ContentWindow, type TokenEntity, type WindowToken } from './entities.js';

export { AGGREGATION_STRATEGIES, type AggregationStrategy, type TokenEntity } from './entities.js';

/** Options of classifyTokens(). */
export interface ClassifyTokensOptions {
  /** 'none' (default): every token; else entities grouped as the pipeline's aggregation_strategy groups them */
  aggregationStrategy?: AggregationStrategy;
  /** labels left out of the answer (default ['O']) */
  ignoreLabels?: string[];
  /** label a text longer than maxSeqLen in windows overlapping by this many tokens, as the pipeline's stride (not with 'none') */
  stride?: number;
  /** each text is a list of words (the pipeline's is_split_into_words), read as the words joined by spaces */
  isTokenized?: boolean;
  /** cut a text longer than maxSeqLen when no stride is given (default true); false refuses it with ERR_INPUT_TOO_LONG */
  truncate?: boolean;
  signal?: AbortSignal;
}

const OPTION_NAMES = ['aggregationStrategy', 'ignoreLabels', 'stride', 'isTokenized', 'truncate', 'signal'];

/** One window of a text: its tokens (with [CLS]/[SEP]) as the model sees them, and where each came from. */
interface TextWindow {
  text: number;
  ids: number[];
  tokens: WindowToken[];
}

export async function classifyTokens(context: TaskContext, texts: string[] | string[][], options: ClassifyTokensOptions): Promise<TokenEntity[][]> {
  const { callOptions, isTokenized, signal } = readCallOptions('classifyTokens', options, OPTION_NAMES);
  const strategy = checkOneOf('aggregationStrategy', callOptions.aggregationStrategy ?? 'none', AGGREGATION_STRATEGIES);
  const ignoreLabels = callOptions.ignoreLabels ?? ['O'];
  assertStringArray('ignoreLabels', ignoreLabels);
  const truncate = booleanOption(callOptions, 'truncate', true);
  const specials = context.options.specialTokens ? 2 : 0;
  const capacity = context.maxTokens - specials;
  const stride = callOptions.stride === undefined ? undefined : checkStride(callOptions.stride, capacity + 2);
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
