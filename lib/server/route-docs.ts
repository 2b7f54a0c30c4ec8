/** The route table as documentation: the endpoint list of `serve --help` and README's endpoint table. */
import type { Dialect, RouteEntry } from './route.js';
import { ROUTES } from './route-table.js';

/** The entries by dialect, the dialects in the order the table first names them. */
function byDialect(): [Dialect, RouteEntry[]][] {
  const groups = new Map<Dialect, RouteEntry[]>();
  for (const entry of ROUTES) groups.set(entry.dialect, [...(groups.get(entry.dialect) ?? []), entry]);
  return [...groups];
}

/** `serve --help`'s list: one line per endpoint under its API's name. */
export function endpointHelp(): string {
  return byDialect()
    .map(([dialect, entries]) => {
      const width = Math.max(...entries.map((entry) => entry.path.length));
      return [`  ${dialect.name}`, ...entries.map((entry) => `    ${entry.method.padEnd(4)} ${entry.path.padEnd(width)}  ${entry.description}`)].join('\n');
    })
    .join('\n');
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** README's endpoint table, header included (scripts/readme-options.mjs writes it; test/server/route-table.test.ts checks it). */
export function endpointTable(): string[] {
  return [
    '| method | path | API | what |',
    '| --- | --- | --- | --- |',
    ...byDialect().flatMap(([dialect, entries]) => entries.map((entry) => `| ${entry.method} | \`${entry.path}\` | ${dialect.name} | ${cell(entry.description)} |`)),
  ];
}
