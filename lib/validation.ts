/**
 * Argument checks shared by every public entry point. One message format (sharp's):
 * `Expected positive integer for maxSeqLen but received -1 of type number`.
 * A value of the wrong type is a TypeError; a value of the right type out of range is a RangeError.
 */

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

function describeReceived(value: unknown): string {
  return `${describeValue(value)} of type ${describeType(value)}`;
}

export function expectationMessage(field: string, expected: string, value: unknown): string {
  return `Expected ${expected} for ${field} but received ${describeReceived(value)}`;
}

/**
 * The names a surface gives the API's fields and options in its messages: the server's JSON fields,
 * the CLI's flags. Errors that name a field are built from parts, so a surface renames them with
 * its Naming instead of rewriting their text.
 */
export interface Naming {
  /** a field path as the surface names it ('documents[3]' for the API, 'texts[3]' for TEI's /rerank) */
  field(path: string): string;
  /** how a caller asks for an option's value ('pass truncate: true', 'send "truncate": true') */
  option(name: string, value: unknown): string;
}

export const API_NAMING: Naming = { field: (path) => path, option: (name, value) => `pass ${name}: ${JSON.stringify(value)}` };

/** A Naming that renames a path's leading name by `names` (the longest that matches: 'taskOptions.topK' before 'taskOptions'), and asks for options its own way. */
export function renamingFields(names: Readonly<Record<string, string>>, option: Naming['option'] = API_NAMING.option): Naming {
  const keys = Object.keys(names).sort((a, b) => b.length - a.length);
  return {
    field: (path) => {
      const key = keys.find((name) => path === name || path.startsWith(`${name}[`) || path.startsWith(`${name}.`));
      return key === undefined ? path : names[key] + path.slice(key.length);
    },
    option,
  };
}

const RENDER = Symbol('render');
type Render = (naming: Naming) => string;

/** An error whose message is rendered from parts (its fields and options named by API_NAMING), so that surfaces can rename them. */
export function namingError<E extends Error>(make: (message: string) => E, render: Render): E {
  const error = make(render(API_NAMING));
  Object.defineProperty(error, RENDER, { value: render });
  return error;
}

/** `error` in a surface's own names: a copy of the same class, code and cause where its message names fields; the error itself otherwise. */
export function inSurfaceNames<E>(error: E, naming: Naming): E {
  const render = (error as { [RENDER]?: Render } | null)?.[RENDER];
  if (!render || !(error instanceof Error)) return error;
  // A real error of the same class (its constructor run with the new message), then its own fields (code, cause…) copied over.
  const copy = Reflect.construct(error.constructor, [render(naming)]) as Error;
  for (const key of Object.keys(error)) if (key !== 'message' && key !== 'stack') (copy as unknown as Record<string, unknown>)[key] = (error as unknown as Record<string, unknown>)[key];
  if (error.cause !== undefined) copy.cause = error.cause;
  Object.defineProperty(copy, RENDER, { value: render });
  return copy as E;
}

/** A TypeError or RangeError naming `field`: `Expected <expected> for <field> but received <value>`. */
export function fieldError(kind: TypeErrorConstructor | RangeErrorConstructor, field: string, expected: string, value: unknown): Error {
  return namingError((message) => new kind(message), (naming) => expectationMessage(naming.field(field), expected, value));
}

export function assertString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw fieldError(TypeError, field, 'string', value);
}

export function assertBoolean(field: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') throw fieldError(TypeError, field, 'boolean', value);
}

export function assertStringArray(field: string, value: unknown): asserts value is string[] {
  if (!Array.isArray(value)) throw fieldError(TypeError, field, 'array of strings', value);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') {
      throw fieldError(TypeError, `${field}[${i}]`, 'string', value[i]);
    }
  }
}

function integerExpectation(minimum: number, maximum: number): string {
  if (maximum !== Infinity) return `integer from ${minimum} to ${maximum}`;
  if (minimum === 1) return 'positive integer';
  if (minimum === 0) return 'non-negative integer';
  return `integer of at least ${minimum}`;
}

/** An integer in [minimum, maximum], returned for use in an expression. */
export function checkInteger(field: string, value: unknown, minimum: number, maximum = Infinity): number {
  const expected = integerExpectation(minimum, maximum);
  if (typeof value !== 'number' || !Number.isInteger(value)) throw fieldError(TypeError, field, expected, value);
  if (value < minimum || value > maximum) throw fieldError(RangeError, field, expected, value);
  return value;
}

export function assertPositiveInteger(field: string, value: unknown): asserts value is number {
  checkInteger(field, value, 1);
}

export function assertNonNegativeInteger(field: string, value: unknown): asserts value is number {
  checkInteger(field, value, 0);
}

export function checkOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  const expected = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
  if (typeof value !== 'string') throw fieldError(TypeError, field, expected, value);
  if (!allowed.includes(value as T)) throw fieldError(RangeError, field, expected, value);
  return value as T;
}

export function checkPlainObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fieldError(TypeError, field, 'object', value);
  }
  return value as Record<string, unknown>;
}

export function assertPlainObject(field: string, value: unknown): asserts value is Record<string, unknown> {
  checkPlainObject(field, value);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** Rejects option names that are not known, suggesting the closest known one (better-sqlite3 style). */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const closest = known.reduce((best, candidate) => (editDistance(name, candidate) < editDistance(name, best) ? candidate : best));
    const hint = editDistance(name, closest) <= 3 ? ` Did you mean '${closest}'?` : '';
    const error = new TypeError(`Unknown option '${name}' for ${where}.${hint} Known options: ${known.join(', ')}`);
    throw Object.assign(error, { code: 'ERR_UNKNOWN_OPTION' });
  }
}
