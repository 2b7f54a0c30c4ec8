// The architecture's direction holds (scripts/check-layers.mjs): on lib/ as it is, and the check
// refuses each kind of wrong import when one is planted in a small tree of its own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.resolve(__dirname, '../../scripts/check-layers.mjs');

function check(libDir?: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [script, ...(libDir ? [libDir] : [])], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

/** A throwaway lib/ holding `files` (path → source). */
function plantedTree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe('layers', () => {
  it('lib/ imports only in the architecture\'s direction', () => {
    const { status, output } = check();
    expect(output).toMatch(/every import goes the architecture's way/);
    expect(status).toBe(0);
  });

  const wrong: [string, Record<string, string>, RegExp][] = [
    ['the server importing the tokenizer', { 'server/route.ts': "import { x } from '../tokenizer/index.js';\n", 'tokenizer/index.ts': '' }, /surfaces never tokenize/],
    ['the CLI importing the engine', { 'cli/run.ts': "import { x } from '../engine/batch-scheduler.js';\n", 'engine/batch-scheduler.ts': '' }, /surfaces never tokenize/],
    ['the engine importing a task', { 'engine/scheduler.ts': "import { x } from '../tasks/index.js';\n", 'tasks/index.ts': '' }, /the engine knows no task/],
    ['the engine naming a head', { 'engine/scheduler.ts': "const head = 'maskedLm';\n" }, /the engine names no head/],
    ['a head spec in the encoder', { 'encoder.ts': "const head = { kind: 'sparse' };\n" }, /head specs live in their task/],
    ['a task reaching into another', { 'tasks/score/score.ts': "import { x } from '../fill-mask/candidates.js';\n", 'tasks/fill-mask/candidates.ts': '' }, /a task folder is its own/],
    ['the server skipping the tasks index', { 'server/route.ts': "import type { X } from '../tasks/score/score.js';\n", 'tasks/score/score.ts': '' }, /reached through their index/],
    ['a task importing the encoder', { 'tasks/embed/embed.ts': "import { Encoder } from '../../encoder.js';\n", 'encoder.ts': '' }, /tasks sit below/],
  ];
  for (const [what, files, rule] of wrong) {
    it(`refuses ${what}`, () => {
      const dir = plantedTree(files);
      try {
        const { status, output } = check(dir);
        expect(status).toBe(1);
        expect(output).toMatch(rule);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
