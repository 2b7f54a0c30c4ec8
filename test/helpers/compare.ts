import { expect } from 'vitest';

function norm(values: ArrayLike<number>, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/**
 * Asserts every `width`-long vector of `actual` is within `relative` × (that vector's norm in
 * `expected`) of it, element by element. Zero vectors must be (near) zero.
 */
export function expectVectorsClose(actual: ArrayLike<number>, expected: ArrayLike<number>, width: number, relative = 1e-4, label = ''): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let start = 0; start < expected.length; start += width) {
    const tolerance = relative * Math.max(norm(expected, start, start + width), 1e-3);
    let worst = 0;
    let worstAt = start;
    for (let i = start; i < start + width; i++) {
      const error = Math.abs(actual[i] - expected[i]);
      if (!(error <= worst)) {
        worst = error;
        worstAt = i;
      }
    }
    if (!(worst <= tolerance)) {
      expect.fail(`${label}: element ${worstAt} (vector at ${start}) is ${actual[worstAt]}, expected ${expected[worstAt]} (error ${worst} > ${tolerance})`);
    }
  }
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot / (norm(a, 0, a.length) * norm(b, 0, b.length));
}

/**
 * The relative error of each `width`-long vector of `actual` against `expected`: max |actual - expected| / max |expected|
 * over the vector. A vector whose expected values are all zero (padding, a masked token) has error 0 when `actual` is
 * exactly zero there too, else Infinity. Returns the worst vector's error and where it starts.
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, width: number): { error: number; at: number; element: number } {
  let worst = { error: 0, at: 0, element: 0 };
  for (let start = 0; start < expected.length; start += width) {
    let scale = 0;
    let diff = 0;
    let element = start;
    for (let i = start; i < start + width; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      const d = Math.abs(actual[i] - expected[i]);
      if (!(d <= diff)) {
        diff = Number.isNaN(d) ? Infinity : d;
        element = i;
      }
    }
    const error = scale === 0 ? (diff === 0 ? 0 : Infinity) : diff / scale;
    if (!(error <= worst.error)) worst = { error, at: start, element };
  }
  return worst;
}

/** Asserts maxRelativeError(actual, expected, width) <= tolerance (same length first); returns the error. */
export function expectRelativeClose(actual: ArrayLike<number>, expected: ArrayLike<number>, width: number, tolerance: number, label = ''): number {
  expect(actual.length, `${label} length`).toBe(expected.length);
  const { error, at, element } = maxRelativeError(actual, expected, width);
  if (!(error <= tolerance)) {
    const from = Math.max(at, element - 2);
    const to = Math.min(at + width, element + 3);
    const show = (v: ArrayLike<number>) => Array.from({ length: to - from }, (_, i) => v[from + i].toPrecision(8)).join(', ');
    expect.fail(
      `${label}: the vector at ${at} is off by ${error.toExponential(3)} of its largest value (> ${tolerance}), worst at element ${element - at}:\n` +
        `  actual   [${from - at}..${to - at - 1}] ${show(actual)}\n  expected [${from - at}..${to - at - 1}] ${show(expected)}`,
    );
  }
  return error;
}
