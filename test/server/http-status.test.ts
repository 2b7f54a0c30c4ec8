// HTTP statuses come from one table, lib/errors.ts' ERROR_CODES: an error with a code is answered
// with its code's status, with no list of codes in the server; the dialects that prescribe their own
// (TF Serving's 400) map it there.
import { describe, expect, it } from 'vitest';
import { BertEmbedError, ERROR_CODES, type BertEmbedErrorCode } from '../../lib/errors.js';
import { TF_SERVING } from '../../lib/server/dialects/tf-serving/dialect.js';
import { httpError, httpErrorOf } from '../../lib/server/http-error.js';

describe('httpErrorOf', () => {
  it("answers every code with a status with that status, its code and message; ERR_OVERLOADED with Retry-After", () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      if (status === null) continue;
      const answer = httpErrorOf(new BertEmbedError(`about ${code}`, code as BertEmbedErrorCode));
      expect([answer.status, answer.code, answer.message], code).toEqual([status, code, `about ${code}`]);
      expect(answer.headers, code).toEqual(code === 'ERR_OVERLOADED' ? { 'retry-after': '1' } : {});
    }
  });

  it('a code added to ERROR_CODES later is answered with its status the same way (any error with a code)', () => {
    const table = ERROR_CODES as unknown as Record<string, { status: number | null; meaning: string }>;
    table.ERR_ADDED_LATER = { status: 422, meaning: 'a code this test adds' };
    try {
      const answer = httpErrorOf(Object.assign(new Error('the model has no such head'), { code: 'ERR_ADDED_LATER' }));
      expect([answer.status, answer.code, answer.message]).toEqual([422, 'ERR_ADDED_LATER', 'the model has no such head']);
    } finally {
      delete table.ERR_ADDED_LATER;
    }
  });

  it("argument mistakes are 422 ERR_VALIDATION; the server's own states are its codes", () => {
    const unknownOption = Object.assign(new TypeError('unknown option foo'), { code: 'ERR_UNKNOWN_OPTION' });
    const cases: [unknown, number, string, string][] = [
      [new TypeError('bad type'), 422, 'ERR_VALIDATION', 'bad type'],
      [new RangeError('out of range'), 422, 'ERR_VALIDATION', 'out of range'],
      [unknownOption, 422, 'ERR_VALIDATION', 'unknown option foo'],
      [new BertEmbedError('the encoder is closed', 'ERR_CLOSED'), 503, 'ERR_SHUTTING_DOWN', 'the server is shutting down'],
      [new DOMException('The operation was aborted', 'AbortError'), 499, 'ERR_CANCELLED', 'the request was cancelled'],
      [new BertEmbedError('cannot read', 'ERR_MODEL_LOAD'), 500, 'ERR_MODEL_LOAD', 'cannot read'],
      [new Error('surprise'), 500, 'ERR_INTERNAL', 'surprise'],
    ];
    for (const [thrown, ...expected] of cases) {
      const { status, code, message } = httpErrorOf(thrown);
      expect([status, code, message]).toEqual(expected);
    }
  });

  it("TF Serving answers `{ error }` and its 400 where ERROR_CODES says 422", () => {
    expect(TF_SERVING.errorAnswer(httpError('ERR_VALIDATION', 'bad row'))).toEqual({ status: 400, jsonText: '{"error":"bad row"}' });
    expect(TF_SERVING.errorAnswer(httpError('ERR_NOT_FOUND', 'no such model'))).toEqual({ status: 404, jsonText: '{"error":"no such model"}' });
  });
});
