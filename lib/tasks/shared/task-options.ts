/**
 * A call's options in the declaration table's format (option-declarations.ts): each declared once with its
 * type, default and help, and its reading: the value given (undefined when not) checked, or its default.
 * Each task's options type is derived from its declarations, so nothing restates them.
 */
import { assertBoolean, checkPlainObject, fieldError, rejectUnknownOptions } from '../../validation.js';
import type { TaskContext } from './task-context.js';

export interface TaskOptionDeclaration {
  readonly name: string;
  /** the type and range, for people; the reading gives the same words in its errors */
  readonly type: string;
  readonly defaultText: string;
  readonly help: string;
  read(value: unknown, context: TaskContext): unknown;
}

/** What a call takes: each declared option, optional, of the type its reading gives. */
export type TaskOptions<D extends readonly TaskOptionDeclaration[]> = { [K in D[number] as K['name']]?: Exclude<ReturnType<K['read']>, undefined> };

/** Every declared option of a call, read: given and checked, or defaulted. */
export type ReadOptions<D extends readonly TaskOptionDeclaration[]> = { [K in D[number] as K['name']]: ReturnType<K['read']> };

/** Reads a call's options: an object of known names only (better-sqlite3's rule), each read in declaration order. */
export function readTaskOptions<const D extends readonly TaskOptionDeclaration[]>(method: string, options: unknown, declarations: D, context: TaskContext): ReadOptions<D> {
  const given = checkPlainObject('options', options);
  rejectUnknownOptions(
    method,
    given,
    declarations.map((declaration) => declaration.name),
  );
  const read: Record<string, unknown> = {};
  for (const declaration of declarations) read[declaration.name] = declaration.read(given[declaration.name], context);
  return read as ReadOptions<D>;
}

/** A boolean option's reading, with its default. */
export function readBoolean(name: string, byDefault: boolean): (value: unknown) => boolean {
  return (value) => {
    const read = value ?? byDefault;
    assertBoolean(name, read);
    return read;
  };
}

export const IS_TOKENIZED = {
  name: 'isTokenized',
  type: 'boolean',
  defaultText: '`false`',
  help: 'each input is already a list of tokens (string[]), each looked up in the vocabulary as it is',
  read: readBoolean('isTokenized', false),
} as const satisfies TaskOptionDeclaration;

export const SPLIT_PAIRS = {
  name: 'splitPairs',
  type: 'boolean',
  defaultText: '`true`',
  help: "read a text 'A ||| B' as the sentence pair (A, B), bert-as-service's convention; false takes every text as written",
  read: readBoolean('splitPairs', true),
} as const satisfies TaskOptionDeclaration;

export const SIGNAL = {
  name: 'signal',
  type: 'AbortSignal',
  defaultText: 'none',
  help: "cancels the call: its rows still queued are dropped and the promise rejects (ERR_CANCELLED's AbortError)",
  read: (value: unknown): AbortSignal | undefined => {
    if (value !== undefined && !(value instanceof AbortSignal)) throw fieldError(TypeError, 'signal', 'AbortSignal', value);
    return value;
  },
} as const satisfies TaskOptionDeclaration;

/** The options every text-taking call shares, read first. */
export const TEXT_CALL_OPTIONS = [IS_TOKENIZED, SPLIT_PAIRS, SIGNAL] as const;

/** `truncate`, for a call that cuts its inputs to maxSeqLen unless told not to. */
export function truncateOption(help: string): TaskOptionDeclaration & { name: 'truncate'; read: (value: unknown) => boolean } {
  return { name: 'truncate', type: 'boolean', defaultText: '`true`', help, read: readBoolean('truncate', true) };
}

/** `rawScores`, for a classifier's calls. */
export function rawScoresOption(help: string): TaskOptionDeclaration & { name: 'rawScores'; read: (value: unknown) => boolean } {
  return { name: 'rawScores', type: 'boolean', defaultText: '`false`', help, read: readBoolean('rawScores', false) };
}
