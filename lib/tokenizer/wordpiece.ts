export interface WordPieceOptions {
  unkId: number;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  /** How many distinct words keep their pieces cached; the oldest goes first when full. */
  cacheCapacity?: number;
}

const DEFAULT_CACHE_CAPACITY = 65_536;

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Length in code points, as HF counts a word against max_input_chars_per_word. */
function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    count++;
  }
  return count;
}

function lengthsById(pieces: ReadonlyMap<string, number>): Map<number, number> {
  const lengths = new Map<number, number>();
  for (const [piece, id] of pieces) lengths.set(id, piece.length);
  return lengths;
}

function longestKeyLength(keys: Iterable<string>): number {
  let longest = 0;
  for (const key of keys) if (key.length > longest) longest = key.length;
  return longest;
}

/**
 * HF's WordPiece model: greedy longest-match-first over the word, continuation pieces carrying the
 * prefix; a word that cannot be covered, or is longer than maxInputCharsPerWord code points, is one
 * unknown token.
 */
export class WordPieceModel {
  private readonly wordStartPieces: Map<string, number>;
  /** Continuation pieces keyed without their prefix, so lookups need no string concatenation. */
  private readonly continuationPieces: Map<string, number>;
  private readonly longestWordStart: number;
  private readonly longestContinuation: number;
  private readonly unkId: number;
  private readonly maxInputCharsPerWord: number;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly cacheCapacity: number;
  /** Piece lengths by id (word-start and continuation, the prefix not counted), built when first needed. */
  private pieceLengths: { wordStart: Map<number, number>; continuation: Map<number, number> } | undefined;

  constructor(vocab: ReadonlyMap<string, number>, options: WordPieceOptions) {
    this.wordStartPieces = vocab as Map<string, number>;
    const prefix = options.continuingSubwordPrefix;
    this.continuationPieces = new Map();
    for (const [token, id] of vocab) {
      if (token.startsWith(prefix)) this.continuationPieces.set(token.slice(prefix.length), id);
    }
    this.longestWordStart = longestKeyLength(this.wordStartPieces.keys());
    this.longestContinuation = longestKeyLength(this.continuationPieces.keys());
    this.unkId = options.unkId;
    this.maxInputCharsPerWord = options.maxInputCharsPerWord;
    this.cacheCapacity = options.cacheCapacity ?? DEFAULT_CACHE_CAPACITY;
  }

  /** Appends the piece ids of one pre-token to `out`. */
  pushPieceIds(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.splitWord(word);
      if (this.cache.size >= this.cacheCapacity) {
        this.cache.delete(this.cache.keys().next().value as string);
      }
      this.cache.set(word, ids);
    }
    if (ids.length === 1) out.push(ids[0]);
    else for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }

  /**
   * pushPieceIds, also appending where each piece ends in `word` (UTF-16 units) to `ends`. The
   * pieces are the word's in order, so each ends where the one before did plus its own length; a
   * single piece (the unknown token too) covers the word.
   */
  pushPiecesWithEnds(word: string, ids: number[], ends: number[]): void {
    const first = ids.length;
    this.pushPieceIds(word, ids);
    if (ids.length - first === 1) {
      ends.push(word.length);
      return;
    }
    const lengths = (this.pieceLengths ??= {
      wordStart: lengthsById(this.wordStartPieces),
      continuation: lengthsById(this.continuationPieces),
    });
    let end = 0;
    for (let i = first; i < ids.length; i++) {
      end += (i === first ? lengths.wordStart : lengths.continuation).get(ids[i])!;
      ends.push(end);
    }
  }

  private splitWord(word: string): readonly number[] {
    if (word.length > this.maxInputCharsPerWord && countCodePoints(word) > this.maxInputCharsPerWord) {
      return [this.unkId];
    }
    const ids: number[] = [];
    let start = 0;
    while (start < word.length) {
      const pieces = start === 0 ? this.wordStartPieces : this.continuationPieces;
      let end = Math.min(word.length, start + (start === 0 ? this.longestWordStart : this.longestContinuation));
      let id: number | undefined;
      while (end > start) {
        // Never cut between the two halves of a surrogate pair: HF cuts only at char boundaries.
        if (end < word.length && isLowSurrogate(word.charCodeAt(end))) {
          end--;
          continue;
        }
        id = pieces.get(word.slice(start, end));
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) return [this.unkId];
      ids.push(id);
      start = end;
    }
    return ids;
  }
}
