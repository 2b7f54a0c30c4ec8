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
function slotWidth(topK: number): number {
  return 2 + 2 * topK;
}

/** The head for rows of `slots` scored positions, each answered with its target and `topK` candidates. */
export class MaskedLmHead {
  readonly spec: NativeHeadSpec;
  /** floats per row of the answer */
  readonly rowWidth: number;
  readonly #slotWidth: number;

  constructor(
    readonly slots: number,
    readonly topK: number,
  ) {
    this.spec = { kind: 'maskedLm', slots, topK, payloadWidth: 2 * slots };
    this.#slotWidth = slotWidth(topK);
    this.rowWidth = slots * this.#slotWidth;
  }

  /** The reading of a call's answer: row `row`'s slot `slot`, the one place that knows the slot layout. */
  answer(answers: Float32Array, row: number, slot: number): MaskedLmSlot {
    const at = (row * this.slots + slot) * this.#slotWidth;
    return {
      logprob: answers[at],
      rank: answers[at + 1],
      candidate: (k) => ({ id: answers[at + 2 + 2 * k], logprob: answers[at + 3 + 2 * k] }),
    };
  }
}

/** One scored position's answer: the target's log-probability and rank (0 without a target), and the k-th best candidate. */
export interface MaskedLmSlot {
  logprob: number;
  rank: number;
  candidate(k: number): { id: number; logprob: number };
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
