// One error contract (issue 12): every code the package raises is in the closed union of
// lib/errors.ts, and README's "Errors" table lists the same codes with the same HTTP statuses and
// meanings.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, BertEmbedError, fromNativeError, isBertEmbedErrorCode } from '../../lib/errors.js';
import { repoRoot } from '../reference/helpers.js';

function sourceFiles(dir: string, pattern: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('the error codes', () => {
  it('every ERR_ code in lib/ and native/ is one of BertEmbedErrorCode', () => {
    const files = [...sourceFiles(path.join(repoRoot, 'lib'), /\.m?ts$/), ...sourceFiles(path.join(repoRoot, 'native'), /\.(cpp|h)$/)];
    const unknown: string[] = [];
    for (const file of files) {
      for (const [, code] of fs.readFileSync(file, 'utf8').matchAll(/['"`](ERR_[A-Z0-9_]+)['"`]/g)) {
        if (!isBertEmbedErrorCode(code)) unknown.push(`${path.relative(repoRoot, file)}: ${code}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("README's Errors table is the same table: codes, HTTP statuses and meanings", () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## ', readme.indexOf('\n## Errors\n') + 1));
    const rows = [...section.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| ([^|]+) \| (.+) \|$/gm)].map(([, code, status, meaning]) => [code, status.trim(), meaning]);
    const expected = Object.entries(ERROR_CODES).map(([code, { status, meaning }]) => [code, status === null ? '—' : String(status), meaning]);
    expect(rows).toEqual(expected);
  });

  it('a native rejection keeps a known code; an unknown one becomes ERR_NATIVE', () => {
    const known = fromNativeError(Object.assign(new Error('bad tensor'), { code: 'ERR_MODEL_NON_FINITE' }));
    expect(known).toEqual(new BertEmbedError('bad tensor', 'ERR_MODEL_NON_FINITE'));
    expect((fromNativeError(Object.assign(new Error('odd'), { code: 'ERR_SOMETHING_ELSE' })) as BertEmbedError).code).toBe('ERR_NATIVE');
  });
});
