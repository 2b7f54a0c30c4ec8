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
