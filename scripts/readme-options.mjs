// README's option tables, written from the declarations (lib/option-declarations.ts, and serve's own flags in
// lib/cli/serve-flag-declarations.ts), and its endpoint table, written from the server's route table
// (lib/server/route-table.ts), so they cannot drift: `npm run docs:options` rewrites them; test/cli/option-flags.test.ts
// and test/server/route-table.test.ts check them.
//   node scripts/readme-options.mjs           rewrite README.md
//   node scripts/readme-options.mjs --check   exit 1 when README.md differs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = createRequire(import.meta.url);
const { ENCODER_OPTIONS } = load(path.join(root, 'dist/option-declarations.js'));
const { SERVE_FLAGS } = load(path.join(root, 'dist/cli/serve-flag-declarations.js'));
const { endpointTable } = load(path.join(root, 'dist/server/route-docs.js'));

const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const flagsOf = (flag) => [flag.spec.split(' ')[0], ...(flag.aliases ?? [])].map((spelling) => `\`${spelling}\``).join(', ');

const TABLES = [
  {
    what: 'options table',
    source: 'lib/option-declarations.ts',
    header: ['| option | flag | type | default | meaning |', '| --- | --- | --- | --- | --- |'],
    rows: () =>
      ENCODER_OPTIONS.map((option) => `| \`${option.name}\` | ${flagsOf(option.flag)}${option.flag.serveOnly ? ' (serve)' : ''} | ${cell(option.type)} | ${cell(option.defaultText)} | ${cell(option.help)} |`),
  },
  {
    what: 'serve flags table',
    source: 'lib/cli/serve-flag-declarations.ts',
    header: ['| flag | type | default | meaning |', '| --- | --- | --- | --- |'],
    rows: () => SERVE_FLAGS.map((option) => `| ${flagsOf(option.flag)}${option.flag.env ? ` (or \`${option.flag.env}\`)` : ''} | ${cell(option.type)} | ${cell(option.defaultText)} | ${cell(option.help)} |`),
  },
  {
    what: 'endpoints table',
    source: 'lib/server/route-table.ts',
    header: [],
    rows: () => endpointTable(),
  },
];

const markers = (table) => [`<!-- ${table.what}: written by scripts/readme-options.mjs from ${table.source} -->`, `<!-- end of ${table.what} -->`];

export function readmeWithTables(readme) {
  let text = readme;
  for (const table of TABLES) {
    const [begin, end] = markers(table);
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${table.what} between "${begin}" and "${end}"`);
    text = text.slice(0, from) + [begin, ...table.header, ...table.rows(), end].join('\n') + text.slice(to + end.length);
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = path.join(root, 'README.md');
  const readme = fs.readFileSync(file, 'utf8');
  const updated = readmeWithTables(readme);
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      process.stderr.write('README.md\'s option tables differ from their declarations: run `npm run docs:options`\n');
      process.exit(1);
    }
  } else if (updated !== readme) {
    fs.writeFileSync(file, updated);
    process.stderr.write('README.md: option tables rewritten\n');
  }
}
