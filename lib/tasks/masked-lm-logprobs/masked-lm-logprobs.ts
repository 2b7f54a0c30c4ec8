/**
 * maskedLmLogProbs(): the masked-LM head on token ids built by the caller (TensorFlow Serving's BERT
 * clients put [MASK] ids in place themselves): for each row, the log-probability of targets[j] at
 * positions[j], 0 for an unused slot (position -1).
 */
import type { TokenizedSentence } from '../../engine/batch-scheduler.js';
import type { BertModelConfig } from '../../model/bert-config.js';
import { checkInteger, checkPlainObject, fieldError } from '../../validation.js';
import { MaskedLmHead, maskedLmRow } from '../shared/masked-lm-head.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { MASKED_LM_LOGPROBS_OPTIONS, type MaskedLmLogProbsOptions } from './options.js';

/** One row for maskedLmLogProbs(): token ids as the model sees them, [MASK] ids already in place. */
export interface MaskedLmRow {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
  /** positions to score; -1 for an unused slot */
  positions: ArrayLike<number>;
  /** the id whose log-probability is wanted at each position */
  targets: ArrayLike<number>;
}

interface CheckedRow {
  ids: number[];
  typeIds: number[];
  positions: number[];
  targets: number[];
}

/** Rows checked against the model's sizes. */
function checkRows(rows: unknown, { vocabSize, typeVocabSize, maxPositions }: BertModelConfig): CheckedRow[] {
  if (!Array.isArray(rows)) throw fieldError(TypeError, 'rows', 'array of {ids, typeIds, positions, targets}', rows);
  return rows.map((row: unknown, i) => {
    const fields = checkPlainObject(`rows[${i}]`, row);
    const ints = (name: string, minimum: number, maximum: number, length?: number): number[] => {
      const value = fields[name];
      const field = `rows[${i}].${name}`;
      const isArrayLike = Array.isArray(value) || ArrayBuffer.isView(value);
      if (!isArrayLike) throw fieldError(TypeError, field, 'array of integers', value);
      const values = Array.from(value as ArrayLike<unknown>);
      if (length !== undefined && values.length !== length) throw fieldError(RangeError, `${field}.length`, `${length}`, values.length);
      values.forEach((element, j) => checkInteger(`${field}[${j}]`, element, minimum, maximum));
      return values as number[];
    };
    const ids = ints('ids', 0, vocabSize - 1);
    if (ids.length === 0 || ids.length > maxPositions) {
      throw fieldError(RangeError, `rows[${i}].ids.length`, `integer from 1 to ${maxPositions}`, ids.length);
    }
    const typeIds = ints('typeIds', 0, typeVocabSize - 1, ids.length);
    const positions = ints('positions', -1, ids.length - 1);
    const targets = ints('targets', 0, vocabSize - 1, positions.length);
    return { ids, typeIds, positions, targets };
  });
}

export async function maskedLmLogProbs(context: TaskContext, rows: MaskedLmRow[], options: MaskedLmLogProbsOptions): Promise<Float32Array[]> {
  const { signal } = readTaskOptions('maskedLmLogProbs', options, MASKED_LM_LOGPROBS_OPTIONS, context);
  const checked = checkRows(rows, context.config);
  context.capabilities.require('maskedLm', 'maskedLmLogProbs');
  const head = new MaskedLmHead(Math.max(1, ...checked.map((row) => row.positions.length)), 0);
  const answers = await context.submit({
    count: checked.length,
    tokenize: (start, end): TokenizedSentence[] => checked.slice(start, end).map((row) => maskedLmRow(row.ids, row.typeIds, row.positions, row.targets, head.slots)),
    head: head.spec,
    rowWidth: head.rowWidth,
    signal,
  });
  return checked.map((row, i) => Float32Array.from(row.positions, (_, slot) => head.answer(answers, i, slot).logprob));
}
