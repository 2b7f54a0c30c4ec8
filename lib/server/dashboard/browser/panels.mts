/** The dashboard's numbers and tables, built with textContent only (model paths and options are not HTML). */
import type { PrometheusSample } from './prometheus-text.mjs';

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const [d, h, m, s] = [Math.floor(seconds / 86400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
  if (d > 0) return `${d} d ${h} h ${m} min`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function cell(text: string, numeric = false): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (numeric) td.className = 'number';
  return td;
}

/** Replaces a table's body with these rows (or one row saying there are none). */
export function fillTable(table: HTMLTableElement, rows: (string | number)[][], empty: string): void {
  const body = table.tBodies[0];
  const width = table.tHead?.rows[0]?.cells.length ?? 2;
  const fresh = document.createElement('tbody');
  for (const row of rows) {
    const tr = document.createElement('tr');
    for (const value of row) tr.append(cell(typeof value === 'number' ? formatNumber(value) : value, typeof value === 'number'));
    fresh.append(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(empty);
    td.colSpan = width;
    tr.append(td);
    fresh.append(tr);
  }
  body.replaceWith(fresh);
}

/** The tiles at the top: label → value. */
export function fillTotals(list: HTMLElement, totals: [string, string][]): void {
  const items = totals.map(([label, value]) => {
    const item = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = label;
    dd.textContent = value;
    item.append(dt, dd);
    return item;
  });
  list.replaceChildren(...items);
}

export function errorRows(samples: PrometheusSample[]): [string, number][] {
  return samples
    .filter((s) => s.name === 'bert_embed_http_errors_total')
    .map((s): [string, number] => [s.labels.code ?? '?', s.value])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Batches per size range, from the cumulative bert_embed_batch_size buckets. */
export function batchSizeRows(samples: PrometheusSample[]): [string, number][] {
  const buckets = samples
    .filter((s) => s.name === 'bert_embed_batch_size_bucket')
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const rows: [string, number][] = [];
  let previousBound = 0;
  let previousCount = 0;
  for (const { le, count } of buckets) {
    const batches = count - previousCount;
    const range = le === Infinity ? `> ${previousBound}` : le === previousBound + 1 ? String(le) : `${previousBound + 1}–${le}`;
    if (batches > 0) rows.push([range, batches]);
    previousBound = le;
    previousCount = count;
  }
  return rows;
}

export function endpointRows(samples: PrometheusSample[]): [string, string, number][] {
  return samples
    .filter((s) => s.name === 'bert_embed_http_requests_total')
    .map((s): [string, string, number] => [s.labels.endpoint ?? '?', s.labels.status ?? '?', s.value])
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

/** An option's value as text: JSON for anything but a plain string. */
export function optionText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}
