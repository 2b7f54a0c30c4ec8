import type { AddedTokenSplitter, TextSection } from './added-tokens.js';
import { normalizeWithAlignment } from './aligned-normalizer.js';
import type { BertNormalizer } from './normalizer.js';
import { forEachPreToken } from './pre-tokenizer.js';
import type { WordPieceModel } from './wordpiece.js';

/** One sequence's tokens, special tokens not yet added: ids, input ranges and word indexes. */
export interface SequenceWithOffsets {
  ids: number[];
  offsets: Array<[number, number]>;
  wordIds: number[];
}

/** The parts of a WordPieceTokenizer that encoding with offsets runs through. */
export interface OffsetEncodingParts {
  splitter: AddedTokenSplitter;
  normalizer: BertNormalizer;
  wordPiece: WordPieceModel;
}

/**
 * Encodes one sequence to the ids `encode` gives (with the same read limit), also giving each token
 * its [start, end) range in `text` plus `shift`, and the index of its word: each added token found
 * in the text and each pre-token (a run between whitespace, or one punctuation character) is one
 * word. A piece covers its first character's source through its last's, as HF's offsets do.
 */
export function encodeSequenceWithOffsets(parts: OffsetEncodingParts, text: string, readLimit: number, shift: number): SequenceWithOffsets {
  const sequence: SequenceWithOffsets = { ids: [], offsets: [], wordIds: [] };
  const sections: TextSection[] = parts.splitter.split(text) ?? [{ text, start: 0 }];
  const pieceEnds: number[] = [];
  let wordCount = 0;
  let stopped = false;
  for (const section of sections) {
    if ('tokenId' in section) {
      // As in encode: an added token never stops reading.
      sequence.ids.push(section.tokenId);
      sequence.offsets.push([shift + section.start, shift + section.end]);
      sequence.wordIds.push(wordCount++);
      continue;
    }
    const aligned = normalizeWithAlignment(section.text, parts.normalizer, shift + section.start);
    forEachPreToken(aligned.text, (word, wordStart) => {
      pieceEnds.length = 0;
      parts.wordPiece.pushPiecesWithEnds(word, sequence.ids, pieceEnds);
      let pieceStart = wordStart;
      for (const end of pieceEnds) {
        const pieceEnd = wordStart + end;
        sequence.offsets.push([aligned.starts[pieceStart], aligned.ends[pieceEnd - 1]]);
        sequence.wordIds.push(wordCount);
        pieceStart = pieceEnd;
      }
      wordCount++;
      stopped = sequence.ids.length >= readLimit;
      return stopped;
    });
    if (stopped) break;
  }
  return sequence;
}
