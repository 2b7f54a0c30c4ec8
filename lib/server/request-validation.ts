/** Checks of request bodies; each failure is a 422 naming the field, what was expected and received. */
import { expectationMessage } from '../validation.js';
import { HttpError, httpError } from './http-error.js';

export function invalid(field: string, expected: string, value: unknown): HttpError {
  return httpError('ERR_VALIDATION', expectationMessage(field, expected, value));
}

/** A non-empty array of at most `maxInputs` entries. */
function inputArray(field: string, value: unknown, expected: string, maxInputs: number): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(field, expected, value);
  if (value.length > maxInputs) {
    throw httpError('ERR_TOO_MANY_INPUTS', `Expected at most ${maxInputs} inputs for ${field} (--max-inputs) but received ${value.length}`);
  }
  return value;
}

export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'JSON object', body);
  return body as Record<string, unknown>;
}

/** A non-empty list of at most `maxInputs` strings; a single string when `allowSingle`. */
export function textList(field: string, value: unknown, maxInputs: number, allowSingle: boolean): string[] {
  if (allowSingle && typeof value === 'string') return [value];
  const texts = inputArray(field, value, allowSingle ? 'string or non-empty array of strings' : 'non-empty array of strings', maxInputs);
  texts.forEach((text, i) => {
    if (typeof text !== 'string') throw invalid(`${field}[${i}]`, 'string', text);
  });
  return texts as string[];
}

/** A list of token lists (bert-as-service's is_tokenized). */
export function tokenLists(field: string, value: unknown, maxInputs: number): string[][] {
  const lists = inputArray(field, value, 'non-empty array of token arrays', maxInputs);
  lists.forEach((tokens, i) => {
    if (!Array.isArray(tokens) || tokens.some((token) => typeof token !== 'string')) throw invalid(`${field}[${i}]`, 'array of strings', tokens);
  });
  return lists as string[][];
}

export function optionalBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalid(field, 'boolean', value);
  return value;
}

export function optionalOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw invalid(field, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  return value as T;
}

/** One of `allowed`, or undefined when absent (the encoder's default then applies). */
export function oneOfIfGiven<T extends string>(field: string, value: unknown, allowed: readonly T[]): T | undefined {
  return value === undefined || value === null ? undefined : optionalOneOf(field, value, allowed, allowed[0]);
}

/** A JSON object of options (Hugging Face's "parameters"); {} when absent. */
export function optionalObject(field: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'JSON object', value);
  return value as Record<string, unknown>;
}

export function optionalIntegerIn(field: string, value: unknown, minimum: number, maximum: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw invalid(field, `integer from ${minimum} to ${maximum}`, value);
  }
  return value;
}
