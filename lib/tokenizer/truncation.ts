/**
 * How many tokens of each sequence of a pair survive HF's `longest_first` truncation to `room`
 * tokens (the maximum length less the special tokens), as HF tokenizers computes it: the shorter
 * sequence is kept whole when the longer one alone can absorb the cut; otherwise both get half of
 * the room and an odd token goes to the longer sequence (to the second on a tie).
 *
 * Python's slow tokenizers remove one token at a time instead, so they can differ by one token.
 * HF tokenizers 0.23 also stops reading each sequence of a truncated pair at the end of the first
 * word that brings it to the maximum length, so the lengths given here must be those read lengths.
 */
export function longestFirstLengths(firstLength: number, secondLength: number, room: number): [number, number] {
  if (firstLength + secondLength <= room) return [firstLength, secondLength];
  const swapped = firstLength > secondLength;
  let keptShorter = swapped ? secondLength : firstLength;
  let keptLonger = keptShorter > room ? keptShorter : Math.max(keptShorter, room - keptShorter);
  if (keptShorter + keptLonger > room) {
    keptShorter = Math.floor(room / 2);
    keptLonger = keptShorter + (room % 2);
  }
  return swapped ? [keptLonger, keptShorter] : [keptShorter, keptLonger];
}
