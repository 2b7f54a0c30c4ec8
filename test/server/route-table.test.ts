// The route table (lib/server/route-table.ts) is the one list of endpoints: README's endpoint table,
// `serve --help` and the 404 message are made from it, and every request finds its entry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointHelp, endpointTable } from '../../lib/server/route-docs.js';
import { findRoute, notFound } from '../../lib/server/route-lookup.js';
import { ROUTES } from '../../lib/server/route-table.js';
import { BIN } from '../cli/run-cli.js';
import { repoRoot } from '../reference/helpers.js';

describe('the route table', () => {
  it("README's endpoint table is the route table", () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const begin = '<!-- endpoints table: written by scripts/readme-options.mjs from lib/server/route-table.ts -->\n';
    const from = readme.indexOf(begin) + begin.length;
    const rows = readme.slice(from, readme.indexOf('\n<!-- end of endpoints table -->', from)).split('\n');
    expect(rows).toEqual(endpointTable());
  });

  it("serve --help lists every endpoint with its description", () => {
    const help = execFileSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8' });
    expect(help).toContain(endpointHelp());
    for (const entry of ROUTES) expect(help).toMatch(new RegExp(`${entry.method} +${escape(entry.path)} +${escape(entry.description)}`));
  });

  it('each method and path is one entry, with a description', () => {
    const keys = ROUTES.map((entry) => `${entry.method} ${entry.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const entry of ROUTES) expect(entry.description, entry.path).toMatch(/^\S.*\S$/);
  });

  it('a path finds its entry, its metrics label and the parts of a pattern', () => {
    expect(findRoute('/encode')).toMatchObject({ entry: { method: 'POST', path: '/encode' }, label: '/encode', params: {} });
    expect(findRoute('/dashboard/charts.mjs')).toMatchObject({ entry: { path: '/dashboard' }, label: '/dashboard' });
    expect(findRoute('/v1/models/my%20model/versions/1:predict')).toMatchObject({ label: '/v1/models/{name}:predict', params: { model: 'my model', version: '1' } });
    expect(findRoute('/v1/models/tiny/metadata')).toMatchObject({ label: '/v1/models/{name}/metadata', params: { model: 'tiny', version: undefined } });
    expect(findRoute('/v1/models/tiny')?.label).toBe('/v1/models/{name}');
    for (const unknown of ['/encodez', '/dashboard/x', '/v1/models/a/b', '/v1/models/%E0:predict']) expect(findRoute(unknown), unknown).toBeUndefined();
  });

  it('the 404 message suggests the endpoints of the table, POST then GET, with the model name', () => {
    const { status, code, message } = notFound('/nowhere', 'tiny');
    expect([status, code]).toEqual([404, 'ERR_NOT_FOUND']);
    const [, posts, gets] = /^no endpoint \/nowhere; try POST (.*) or GET (.*)$/.exec(message)!;
    const hints = (method: string) => ROUTES.filter((entry) => entry.method === method && entry.hint !== null).map((entry) => (entry.hint ?? entry.path).replace('{model}', 'tiny'));
    expect(posts.split(', ')).toEqual(hints('POST'));
    expect(gets.split(', ')).toEqual(hints('GET'));
    expect(posts).toContain('/v1/models/tiny:predict');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
