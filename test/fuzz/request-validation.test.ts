// Properties of the server's request checks: each validator of lib/server/request-validation.ts
// takes any value and returns what it promises or throws a 4xx HttpError; each route takes any JSON
// body and answers (valid JSON, or finite float32 vectors) or throws an HttpError (4xx), TypeError
// or RangeError with a message: never another error, never a 5xx, never invalid output. The routes
// run on a real encoder (a masked-LM checkpoint, so that every endpoint works).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../lib/index.js';
import { HttpError, httpErrorOf } from '../../lib/server/http-error.js';
import {
  bodyObject,
  oneOfIfGiven,
  optionalBoolean,
  optionalIntegerIn,
  optionalObject,
  optionalOneOf,
  textList,
  tokenLists,
} from '../../lib/server/request-validation.js';
import { embedRoute } from '../../lib/server/dialects/tei/embed.js';
import { embedSparseRoute } from '../../lib/server/dialects/tei/embed-sparse.js';
import { encodeRoute } from '../../lib/server/dialects/bert-as-service/encode.js';
import { fillMaskRoute } from '../../lib/server/dialects/engine/fill-mask.js';
import { openAiRoute } from '../../lib/server/dialects/openai/embeddings.js';
import type { Route, RouteResult } from '../../lib/server/route.js';
import { scoreRoute } from '../../lib/server/dialects/engine/score.js';
import { predictRoute } from '../../lib/server/dialects/tf-serving/predict.js';
import { tokenizeRoute } from '../../lib/server/dialects/tei/tokenize.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectDocumentedError, fuzzParameters, hostileText } from './arbitraries.js';

/** Fails unless `thrown` is a 4xx HttpError with a message. */
function expectClientError(thrown: unknown): void {
  expectDocumentedError(thrown, [HttpError]);
  const { status } = thrown as HttpError;
  if (!(status >= 400 && status < 500)) expect.fail(`status ${status} for ${(thrown as Error).message}`);
}

/** Runs `check`; a throw must be a 4xx HttpError. Returns whether it returned. */
function returnsOrRefuses<T>(check: () => T, then: (value: T) => void): void {
  let value: T;
  try {
    value = check();
  } catch (error) {
    expectClientError(error);
    return;
  }
  then(value);
}

describe('request-validation.ts', () => {
  const anyValue = fc.oneof(fc.anything(), fc.jsonValue(), fc.array(hostileText(10), { maxLength: 5 }), fc.array(fc.array(hostileText(5), { maxLength: 3 }), { maxLength: 5 }));
  const maxInputs = fc.integer({ min: 1, max: 6 });

  it('textList and tokenLists give non-empty lists of strings within maxInputs, or a 4xx', () => {
    fc.assert(
      fc.property(anyValue, maxInputs, fc.boolean(), (value, max, allowSingle) => {
        returnsOrRefuses(
          () => textList('inputs', value, max, allowSingle),
          (texts) => {
            expect(texts.length).toBeGreaterThanOrEqual(1);
            expect(texts.length).toBeLessThanOrEqual(max);
            expect(texts.every((text) => typeof text === 'string')).toBe(true);
            if (typeof value === 'string') expect(allowSingle).toBe(true);
          },
        );
        returnsOrRefuses(
          () => tokenLists('texts', value, max),
          (lists) => {
            expect(lists.length).toBeGreaterThanOrEqual(1);
            expect(lists.length).toBeLessThanOrEqual(max);
            expect(lists.every((tokens) => Array.isArray(tokens) && tokens.every((token) => typeof token === 'string'))).toBe(true);
          },
        );
      }),
      fuzzParameters(400),
    );
  });

  it('the scalar and object checks give a value of their type and range, or a 4xx', () => {
    const allowed = ['float', 'base64'] as const;
    fc.assert(
      fc.property(anyValue, fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 5 }), (value, minimum, span) => {
        returnsOrRefuses(
          () => bodyObject(value),
          (body) => expect(typeof body === 'object' && body !== null && !Array.isArray(body)).toBe(true),
        );
        returnsOrRefuses(
          () => optionalBoolean('normalize', value, true),
          (flag) => expect(typeof flag).toBe('boolean'),
        );
        returnsOrRefuses(
          () => optionalOneOf('encoding_format', value, allowed, 'float'),
          (format) => expect(allowed).toContain(format),
        );
        returnsOrRefuses(
          () => oneOfIfGiven('metric', value, allowed),
          (format) => (format === undefined ? expect(value ?? undefined).toBeUndefined() : expect(allowed).toContain(format)),
        );
        returnsOrRefuses(
          () => optionalObject('parameters', value),
          (parameters) => expect(typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)).toBe(true),
        );
        returnsOrRefuses(
          () => optionalIntegerIn('dimensions', value, minimum, minimum + span),
          (n) => {
            if (n === undefined) return expect(value ?? undefined).toBeUndefined();
            if (!(Number.isInteger(n) && n >= minimum && n <= minimum + span)) expect.fail(`${n} outside [${minimum}, ${minimum + span}]`);
          },
        );
      }),
      fuzzParameters(400),
    );
  });
});

// -------------------------------------------------------------------------------------------------
// The routes, on a real encoder

const MAX_INPUTS = 4;
let encoder: Encoder;

beforeAll(async () => {
  // A small queue, so that the 413 of a request larger than it is reached too.
  encoder = await Encoder.load(checkpointDir('mlm-tiny'), { maxSeqLen: 24, threads: 1, maxQueuedSentences: 48 });
});
afterAll(async () => encoder?.close());

const text = hostileText(30);
const strangeNumber = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constantFrom(0.5, -0, 1e308, -1e308, 2 ** 53, 30521, 30522, 128, 129), fc.double({ noNaN: true, noDefaultInfinity: true }));
/** A value for any field: mostly of a plausible type, sometimes anything JSON has. */
const fieldValue = fc.oneof(
  { weight: 3, arbitrary: text },
  { weight: 3, arbitrary: fc.array(text, { minLength: 1, maxLength: MAX_INPUTS + 1 }) },
  { weight: 1, arbitrary: fc.array(fc.array(text, { maxLength: 4 }), { minLength: 1, maxLength: MAX_INPUTS }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: strangeNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, [], {}, 'float', 'base64', 'original', 'within_word_l2r', 'whole_word', 'serving_default') },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const parameters = fc.dictionary(fc.constantFrom('metric', 'top_k', 'targets', 'other'), fieldValue, { maxKeys: 3 });

/**
 * A body for a route: its fields with plausible values (each may be absent), half the time with one
 * field's value replaced by anything; or some of its keys with any values; or any JSON value at all.
 */
function bodyOf(schema: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(schema);
  const plausible = fc.record(schema, { requiredKeys: [keys[0]] });
  return fc.oneof(
    { weight: 4, arbitrary: plausible },
    {
      weight: 4,
      arbitrary: fc
        .tuple(plausible, fc.dictionary(fc.constantFrom(...keys, 'unknown'), fc.oneof(fieldValue, parameters), { minKeys: 1, maxKeys: 1 }))
        .map(([body, junk]) => ({ ...body, ...junk })),
    },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...keys, 'unknown'), fc.oneof(fieldValue, parameters), { maxKeys: keys.length + 1 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

const texts = fc.oneof(text, fc.array(text, { minLength: 1, maxLength: MAX_INPUTS }));
/** Texts with a [MASK] somewhere (fill-mask's), sometimes in an input too long to reach it. */
const maskedText = fc.tuple(text, text).map(([before, after]) => `${before} [MASK] ${after}`);
const maskedTexts = fc.oneof(maskedText, fc.array(maskedText, { minLength: 1, maxLength: MAX_INPUTS }));
const metric = fc.constantFrom('original', 'within_word_l2r', 'whole_word');

/** TF Serving's instances: valid (BERT's features for the tiny vocabulary), or with one thing broken. */
const predictBody = fc
  .record({
    length: fc.integer({ min: 1, max: 6 }),
    slots: fc.integer({ min: 0, max: 3 }),
    rows: fc.integer({ min: 1, max: MAX_INPUTS }),
    seed: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
    columnar: fc.boolean(),
    signature: fc.constantFrom(undefined, 'serving_default', ''),
    // (option's freq: one in freq is nil)
    broken: fc.option(
      fc.record({
        row: fc.nat(),
        field: fc.constantFrom('input_ids', 'input_mask', 'segment_ids', 'masked_lm_positions', 'masked_lm_ids'),
        at: fc.nat(),
        value: fc.oneof(strangeNumber, fc.constantFrom(-1, 2, 30522, '1', null, [1])),
      }),
      { freq: 2 },
    ),
    extraRow: fc.boolean(),
    signatureJunk: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fieldValue }),
  })
  .map(({ length, slots, rows, seed, columnar, signature, broken, extraRow, signatureJunk }) => {
    let k = 0;
    const next = (modulo: number) => (seed[k++ % seed.length] * 2654435761 + k * 40503) % 4294967296 % modulo;
    const instances: Record<string, unknown[]>[] = Array.from({ length: rows }, () => {
      const real = 1 + next(length);
      const positions = Array.from({ length: slots }, () => next(real));
      return {
        input_ids: Array.from({ length }, (_, j) => (j < real ? next(30522) : 0)),
        input_mask: Array.from({ length }, (_, j) => (j < real ? 1 : 0)),
        segment_ids: Array.from({ length }, (_, j) => (j < real ? next(2) : 0)),
        masked_lm_positions: positions,
        masked_lm_ids: positions.map(() => next(30522)),
      };
    });
    if (broken) {
      const row = instances[broken.row % rows][broken.field];
      if (row.length > 0) row[broken.at % row.length] = broken.value;
      else row.push(broken.value);
    }
    if (extraRow && rows === MAX_INPUTS) instances.push(instances[0]);
    const body: Record<string, unknown> = columnar
      ? { inputs: Object.fromEntries(Object.keys(instances[0]).map((name) => [name, instances.map((instance) => instance[name])])) }
      : { instances };
    if (signature !== undefined) body.signature_name = signature;
    if (signatureJunk !== null) body.signature_name = signatureJunk;
    return body;
  });

/** [path, route, bodies, runs]: the masked-LM routes run the model once per token, so fewer of theirs. */
const ROUTES: [string, Route, fc.Arbitrary<unknown>, number][] = [
  [
    '/encode',
    encodeRoute,
    fc.oneof(
      bodyOf({ texts: fc.array(text, { minLength: 1, maxLength: MAX_INPUTS }), id: fc.oneof(fc.integer(), text, fc.constant(null)), show_tokens: fc.boolean() }),
      bodyOf({ texts: fc.array(fc.array(text, { maxLength: 5 }), { minLength: 1, maxLength: MAX_INPUTS }), is_tokenized: fc.constant(true), show_tokens: fc.boolean() }),
    ),
    200,
  ],
  ['/embed', embedRoute, bodyOf({ inputs: texts, normalize: fc.boolean(), truncate: fc.boolean() }), 200],
  ['/v1/embeddings', openAiRoute, bodyOf({ input: texts, model: text, encoding_format: fc.constantFrom('float', 'base64'), dimensions: fc.integer({ min: 1, max: 130 }) }), 200],
  ['/tokenize', tokenizeRoute, bodyOf({ inputs: texts }), 300],
  ['/score', scoreRoute, bodyOf({ inputs: texts, parameters: fc.record({ metric }, { requiredKeys: [] }), metric }), 100],
  ['/fill-mask', fillMaskRoute, bodyOf({ inputs: maskedTexts, parameters: fc.record({ top_k: fc.integer({ min: 1, max: 8 }) }, { requiredKeys: [] }) }), 150],
  ['/embed_sparse', embedSparseRoute, bodyOf({ inputs: texts, truncate: fc.boolean() }), 100],
  [
    '/v1/models/tiny:predict',
    predictRoute,
    fc.oneof({ weight: 3, arbitrary: predictBody }, { weight: 1, arbitrary: bodyOf({ instances: fc.array(fieldValue, { maxLength: 3 }), signature_name: fieldValue, inputs: fieldValue }) }),
    300,
  ],
];

/** An answer the server can send: JSON that parses (no NaN), or whole rows of finite float32. */
function expectValidAnswer(result: RouteResult): void {
  if ('vectors' in result) {
    const [rows, width] = result.shape;
    expect(result.vectors.length).toBe(rows * width);
    for (const value of result.vectors) if (!Number.isFinite(value)) expect.fail(`a non-finite value ${value} in the vectors`);
  } else {
    expect(() => JSON.parse(result.jsonText), result.jsonText.slice(0, 200)).not.toThrow();
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    // What Node's setHeader accepts: visible ASCII, spaces and tabs.
    if (!/^[\t\x20-\x7e]*$/.test(value)) expect.fail(`header ${name} has characters a header cannot carry: ${JSON.stringify(value)}`);
  }
}

describe.each(ROUTES)('POST %s', (path, route, body, runs) => {
  it('answers any JSON body, or refuses it with a 4xx HttpError, TypeError or RangeError', async () => {
    const outcomes = new Map<string, number>();
    const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (requestBody, binary) => {
        let result: RouteResult;
        try {
          result = await route({ encoder, body: requestBody as Record<string, unknown>, signal: new AbortController().signal, binary, maxInputs: MAX_INPUTS, modelName: 'tiny', showTokensToClient: true });
        } catch (error) {
          expectDocumentedError(error, [HttpError, TypeError, RangeError]);
          const { status, code } = httpErrorOf(error);
          if (!(status >= 400 && status < 500)) expect.fail(`status ${status}: ${(error as Error).message}`);
          count(`${status} ${code}`);
          return;
        }
        expectValidAnswer(result);
        count('answered');
      }),
      fuzzParameters(runs),
    );
    if (process.env.FUZZ_STATS) console.log(path, Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])));
    // The bodies reach the encoder, not only the first check.
    expect(outcomes.get('answered') ?? 0).toBeGreaterThan(0);
  });
});
