/**
 * Fill-mask: the masked-LM head's top-k candidates at every [MASK] of a text, in the shape of
 * transformers.js's fill-mask pipeline (one list per [MASK]).
 */
import type { TokenizedSentence } from '../../engine/batch-scheduler.js';
import type { Encoding, WordPieceTokenizer } from '../../tokenizer/index.js';
import { maskedLmRow, type MaskedLmSlot } from '../shared/masked-lm-head.js';

export interface FillMaskCandidate {
  /** probability of the token at this [MASK] */
  score: number;
  /** its id */
  token: number;
  /** the token decoded alone */
  tokenStr: string;
  /** the text decoded with this [MASK] filled in (special tokens, other masks included, left out) */
  sequence: string;
}

/** The [MASK] positions of an encoding; empty when it has none. */
export function maskPositions(encoding: Encoding, maskId: number): number[] {
  const positions: number[] = [];
  encoding.ids.forEach((id, position) => {
    if (id === maskId) positions.push(position);
  });
  return positions;
}

/** One scheduler row: the text as it is, scoring its masks (padded to `slots` with -1). */
export function fillMaskRow(encoding: Encoding, masks: number[], slots: number): TokenizedSentence {
  return maskedLmRow(encoding.ids, encoding.typeIds, masks, [], slots);
}

/** Candidates of each mask from its slot's answer: the head's top-k (id, log-probability) pairs. */
export function fillMaskResult(tokenizer: WordPieceTokenizer, encoding: Encoding, masks: number[], slotAnswer: (slot: number) => MaskedLmSlot, topK: number): FillMaskCandidate[][] {
  return masks.map((position, slot) => {
    const answer = slotAnswer(slot);
    const candidates: FillMaskCandidate[] = [];
    for (let k = 0; k < topK; k++) {
      const { id, logprob } = answer.candidate(k);
      const filled = [...encoding.ids];
      filled[position] = id;
      candidates.push({
        score: Math.exp(logprob),
        token: id,
        tokenStr: tokenizer.decode([id]),
        sequence: tokenizer.decode(filled, { skipSpecialTokens: true }),
      });
    }
    return candidates;
  });
}
