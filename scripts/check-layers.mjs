#!/usr/bin/env node
// Holds the architecture's direction (README, "Layout"): reads every import of lib/ and fails
// naming each one that crosses a layer the wrong way, and each head spec or head name found
// outside the tasks. Run by `npm test` (test/build/layers.test.ts) and so by CI.
//
//   node scripts/check-layers.mjs [LIB_DIR]   prints the violations, exit 1 if any (LIB_DIR: default lib/)
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const lib = path.resolve(process.argv[2] ?? path.join(root, 'lib'));

/** Every .ts/.mts file under lib/, relative to lib/. */
function sources(dir = lib) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path.relative(lib, full)] : [];
  });
}

/** The lib/-relative files a source imports (static imports, re-exports, dynamic import() and require of relative paths). */
function importsOf(file) {
  const text = fs.readFileSync(path.join(lib, file), 'utf8');
  const found = new Set();
  for (const match of text.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = path.normalize(path.join(path.dirname(file), match[1])).replace(/\.m?js$/, (ext) => (ext === '.mjs' ? '.mts' : '.ts'));
    found.add(target);
  }
  return [...found];
}

const under = (file, folder) => file === folder || file.startsWith(`${folder}/`);
const taskFolderOf = (file) => (under(file, 'tasks') ? file.split('/')[1] : undefined);
const TASK_ENTRY_FILES = ['tasks/index.ts', 'tasks/registry.ts'];
const SURFACES = ['server', 'cli', 'queue'];
const HEAD_KINDS = ['pooled', 'maskedLm', 'sparse', 'classification', 'tokenClassification'];

/** Each rule: the files it governs, and why an import of theirs is refused (undefined: allowed). */
const RULES = [
  {
    name: 'native imports nothing above it',
    applies: (file) => under(file, 'native'),
    refuse: (target) => (under(target, 'native') || target === 'errors.ts' ? undefined : 'the native binding may import only lib/native and errors.ts'),
  },
  {
    name: 'the engine knows no task',
    applies: (file) => under(file, 'engine'),
    refuse: (target) =>
      under(target, 'engine') || under(target, 'native') || target === 'errors.ts' || target === 'validation.ts' ? undefined : 'the engine may import only lib/engine, lib/native, errors.ts and validation.ts',
  },
  {
    name: 'tasks sit below the encoder and the surfaces',
    applies: (file) => under(file, 'tasks'),
    refuse: (target) =>
      target === 'encoder.ts' || under(target, 'encoder') || [...SURFACES, 'client', 'hub'].some((folder) => under(target, folder))
        ? 'a task may not import the encoder, the server, the CLI, the queue or the clients'
        : undefined,
  },
  {
    name: 'a task folder is its own',
    applies: (file) => taskFolderOf(file) !== undefined && !TASK_ENTRY_FILES.includes(file),
    refuse: (target, file) => {
      const own = taskFolderOf(file);
      const other = taskFolderOf(target);
      if (other === undefined || other === own || other === 'shared' || TASK_ENTRY_FILES.includes(target)) return undefined;
      return `lib/tasks/${own}/ may not reach into lib/tasks/${other}/ (share through lib/tasks/shared/)`;
    },
  },
  {
    name: 'tasks are reached through their index',
    applies: (file) => !under(file, 'tasks'),
    refuse: (target) => (under(target, 'tasks') && target !== 'tasks/index.ts' ? 'outside lib/tasks/, import tasks from lib/tasks/index.ts' : undefined),
  },
  {
    name: 'surfaces never tokenize or batch themselves',
    applies: (file) => SURFACES.some((folder) => under(file, folder)),
    refuse: (target) =>
      under(target, 'tokenizer') || under(target, 'engine') || target === 'native/binding.ts'
        ? 'the server, the CLI and the queue may not import the tokenizer, the engine or the native binding (ask the encoder or a task)'
        : undefined,
  },
];

/** Head specs ({kind: 'maskedLm', …}) and head names belong to the tasks (and the capabilities that list them). */
const TEXT_RULES = [
  {
    name: 'head specs live in their task',
    applies: (file) => !under(file, 'tasks'),
    pattern: new RegExp(`kind:\\s*['"](${HEAD_KINDS.join('|')})['"]`),
    why: 'a head spec outside lib/tasks/',
  },
  {
    name: 'the engine names no head',
    applies: (file) => under(file, 'engine'),
    pattern: new RegExp(`['"](${HEAD_KINDS.join('|')})['"]`),
    why: 'a head name in the engine',
  },
];

const violations = [];
for (const file of sources()) {
  for (const target of importsOf(file)) {
    for (const rule of RULES) {
      if (!rule.applies(file)) continue;
      const why = rule.refuse(target, file);
      if (why) violations.push(`lib/${file} imports lib/${target}: ${why} [${rule.name}]`);
    }
  }
  const text = fs.readFileSync(path.join(lib, file), 'utf8');
  for (const rule of TEXT_RULES) {
    if (!rule.applies(file)) continue;
    const match = text.match(rule.pattern);
    if (match) violations.push(`lib/${file} has ${match[0]}: ${rule.why} [${rule.name}]`);
  }
}
if (violations.length > 0) {
  process.stderr.write(`check-layers: ${violations.length} violation(s)\n${violations.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`check-layers: ${sources().length} files, every import goes the architecture's way\n`);
