/**
 * The engine fails a call whose answer holds NaN or an infinity (ERR_NON_FINITE) rather than give
 * out a number no JSON can carry; the CLI then stops (exit 1) naming the input line. The lines of
 * the failed chunk are run again one at a time to find it: in a batch, one row's overflow can also
 * reach the rows padded beside it, and a score call's rows are masked copies, not lines.
 */
import type { SourceLine } from './input/line-reader.js';
import { InputError } from './usage-error.js';

export function isNonFinite(error: unknown): error is Error & { row?: number; value?: number } {
  return (error as { code?: unknown } | null)?.code === 'ERR_NON_FINITE';
}

function nonFiniteLine(place: SourceLine, value: number | undefined, note = ''): InputError {
  const what = value === undefined ? 'NaN or an infinity' : String(value);
  return new InputError(
    place.source,
    place.line,
    `the model's output for this line is not finite (${what})${note}, so the run stops rather than write it ` +
      '(ERR_NON_FINITE: float16 overflow, or extreme weights in the checkpoint)',
  );
}

/**
 * `error` as the CLI reports it: an ERR_NON_FINITE of a chunk becomes an InputError naming the
 * first line that fails alone; any other error is returned as it is.
 */
export async function locateNonFinite(error: unknown, places: SourceLine[], runAlone: (text: string) => Promise<unknown>): Promise<unknown> {
  if (!isNonFinite(error) || places.length === 0) return error;
  for (const place of places) {
    try {
      await runAlone(place.text);
    } catch (alone) {
      if (isNonFinite(alone)) return nonFiniteLine(place, alone.value);
      return alone;
    }
  }
  // Only within its batch: name the row the engine named.
  const row = typeof error.row === 'number' && error.row < places.length ? error.row : 0;
  return nonFiniteLine(places[row], error.value, ` in a batch with lines ${places[0].line}-${places[places.length - 1].line}`);
}
