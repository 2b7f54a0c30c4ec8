/**
 * BertForMaskedLM's head at chosen positions, as score, fillMask and maskedLmLogProbs ask for it:
 * each row carries `slots` positions and the id to score at each (-1: none) as its payload, and
 * each slot answers [target log-probability, target rank, topK × (id, log-probability)].
 */
import type { TokenizedSentence } from '../../engine/batch-scheduler.js';
import { BertEmbedError } from '../../errors.js';
import type { NativeHeadSpec } from '../../native/binding.js';
import type { TaskContext } from './task-context.js';

/** Floats per slot in the head's answer. */
export function maskedLmSlotWidth(topK: number): number {
  return 2 + 2 * topK;
}

export function maskedLmHead(slots: number, topK: number): NativeHeadSpec {
  return { kind: 'maskedLm', slots, topK, payloadWidth: 2 * slots };
}

/** One row: its tokens, and its positions and targets, each padded to `slots` with -1. */
export function maskedLmRow(ids: number[], typeIds: number[], positions: readonly number[], targets: readonly number[], slots: number): TokenizedSentence {
  const payload = new Array<number>(2 * slots).fill(-1);
  positions.forEach((position, slot) => (payload[slot] = position));
  targets.forEach((target, slot) => (payload[slots + slot] = target));
  return { ids, typeIds, payload };
}

/** The vocabulary's mask token id. */
export function maskIdOf(context: TaskContext): number {
  const id = context.tokenizer.tokenToId(context.tokenizer.config.maskToken);
  if (id === undefined) {
    throw new BertEmbedError(`${context.modelDir}: the vocabulary has no mask token ${context.tokenizer.config.maskToken}`, 'ERR_MODEL_CONFIG');
  }
  return id;
}
