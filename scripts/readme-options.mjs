// README's option table, written from the option declarations (lib/option-declarations.ts), so the
// two cannot drift: `npm run docs:options` rewrites it; test/cli/option-docs.test.ts checks it.
//   node scripts/readme-options.mjs           rewrite README.md
//   node scripts/readme-options.mjs --check   exit 1 when README.md differs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { ENCODER_OPTIONS } = createRequire(import.meta.url)(path.join(root, 'dist/option-declarations.js'));
const BEGIN = '<!-- options table: written by scripts/readme-options.mjs from lib/option-declarations.ts -->';
const END = '<!-- end of options table -->';

const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function optionsTable() {
  const rows = ENCODER_OPTIONS.map((option) => {
    const flags = option.flag ? [option.flag.spec.split(' ')[0], ...(option.flag.aliases ?? [])].map((flag) => `\`${flag}\``).join(', ') : '';
    const where = option.flag?.serveOnly ? ' (serve)' : '';
    return `| \`${option.name}\` | ${flags}${where} | ${cell(option.type)} | ${cell(option.defaultText)} | ${cell(option.help)} |`;
  });
  return [BEGIN, '| option | flag | type | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows, END].join('\n');
}

export function readmeWithTable(readme) {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no options table between "${BEGIN}" and "${END}"`);
  return readme.slice(0, begin) + optionsTable() + readme.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = path.join(root, 'README.md');
  const readme = fs.readFileSync(file, 'utf8');
  const updated = readmeWithTable(readme);
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      process.stderr.write('README.md\'s options table differs from lib/option-declarations.ts: run `npm run docs:options`\n');
      process.exit(1);
    }
  } else if (updated !== readme) {
    fs.writeFileSync(file, updated);
    process.stderr.write('README.md: options table rewritten\n');
  }
}
