// Deep equality with numbers within 1e-6, for answers of the same model from another process, which may batch (and so
// pad and round) rows differently.
import { expect } from 'vitest';

/** The same objects, numbers within 1e-6, `where` naming the place that differs. */
export function expectClose(actual: unknown, expected: unknown, where = 'answer'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, where).toBe('number');
    expect(Math.abs((actual as number) - expected), where).toBeLessThan(1e-6);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual) && actual.length, where).toBe(expected.length);
    expected.forEach((item, i) => expectClose((actual as unknown[])[i], item, `${where}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), where).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
  } else {
    expect(actual, where).toBe(expected);
  }
}
