/**
 * The dashboard page's script: every two seconds it reads GET /status?history=600 (the server's last
 * ten minutes, one sample a second) and GET /metrics, and redraws. When /status answers 401 the page
 * asks for the API key, keeps it in sessionStorage and sends it as a Bearer token from then on.
 */
import type { EncoderStatus } from '../../../encoder/encoder-status.js';
import type { StatusHistory } from '../metrics-history.js';
import { TimeChart } from './charts.mjs';
import { batchSizeRows, endpointRows, errorRows, fillTable, fillTotals, formatDuration, formatNumber, optionText } from './panels.mjs';
import { parsePrometheusText, type PrometheusSample } from './prometheus-text.mjs';

type StatusAnswer = Partial<EncoderStatus> & { state: string; modelName?: string; history?: StatusHistory };

const REFRESH_MS = 2000;
const HISTORY_SECONDS = 600;
const KEY_STORAGE = 'bert-embed-api-key';

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const charts = {
  throughput: new TimeChart(byId('chart-throughput'), { left: 'per second' }),
  latency: new TimeChart(byId('chart-latency'), { left: 'ms' }),
  load: new TimeChart(byId('chart-load'), { left: 'sentences', right: 'workers' }),
  batches: new TimeChart(byId('chart-batches'), { left: 'sentences', right: '%', rightRange: [0, 100] }),
  errors: new TimeChart(byId('chart-errors'), { left: 'answers/s' }),
};

/** The server wants a key: none was given, or the one given was refused. */
class KeyNeeded extends Error {
  constructor(readonly refused: boolean) {
    super('the server requires its API key');
  }
}

async function fetchText(path: string): Promise<string> {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const response = await fetch(path, { headers: key === null ? {} : { authorization: `Bearer ${key}` }, cache: 'no-store' });
  if (response.status === 401) {
    if (key !== null) sessionStorage.removeItem(KEY_STORAGE);
    throw new KeyNeeded(key !== null);
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text.slice(0, 200)}`);
  return text;
}

function drawHistory(history: StatusHistory, workers: number): void {
  const { t } = history;
  charts.throughput.update([{ label: 'requests/s' }, { label: 'sentences/s' }], t, [history.requestsPerSecond, history.sentencesPerSecond]);
  charts.latency.update([{ label: 'p50', sparse: true }, { label: 'p99', sparse: true }], t, [history.latencyP50Ms, history.latencyP99Ms]);
  charts.load.update([{ label: 'queued sentences' }, { label: `busy workers (of ${workers})`, side: 'right' }], t, [history.queuedSentences, history.busyWorkers]);
  const paddingPercent = history.paddingRatio.map((ratio) => (ratio === null ? null : ratio * 100));
  charts.batches.update([{ label: 'mean batch size', sparse: true }, { label: 'padding %', side: 'right', sparse: true }], t, [history.meanBatchSize, paddingPercent]);
  // each sample's own interval: a late timer makes it longer than intervalMs
  const seconds = t.map((closed, i) => Math.max(1e-3, closed - (i === 0 ? (history.since ?? closed - history.intervalMs / 1000) : t[i - 1])));
  const codes = Object.keys(history.errors);
  charts.errors.update(
    codes.length === 0 ? [{ label: 'errors' }] : codes.map((label) => ({ label })),
    t,
    codes.length === 0 ? [t.map(() => 0)] : codes.map((code) => history.errors[code].map((count, i) => count / seconds[i])),
  );
}

function lastOf(values: (number | null)[] | undefined): number | null {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) if (values![i] !== null) return values![i];
  return null;
}

function drawStatus(status: StatusAnswer): void {
  const loaded = status.options !== undefined;
  byId('model-name').textContent = status.modelName ?? (status.state === 'loading' ? '(loading the model…)' : '');
  document.title = status.modelName ? `${status.modelName} · bert-embed dashboard` : 'bert-embed dashboard';
  const workers = status.workers?.length ?? 0;
  byId('summary').textContent = loaded
    ? `${status.state} · up ${formatDuration(status.uptimeMs ?? 0)} · ${workers} worker(s) on ${(status.devices ?? []).join(', ')} · libtorch ${status.torchVersion ?? '?'}`
    : status.state;
  const history = status.history;
  fillTotals(byId('totals'), [
    ['uptime', loaded ? formatDuration(status.uptimeMs ?? 0) : '–'],
    ['requests', formatNumber(status.requests)],
    ['sentences', formatNumber(status.sentences)],
    ['tokens', formatNumber(status.tokens)],
    ['batches', formatNumber(status.batches)],
    ['mean batch size', formatNumber(status.meanBatchSize, 1)],
    ['padding', status.paddingRatio === undefined ? '–' : `${formatNumber(status.paddingRatio * 100, 1)} %`],
    ['queued sentences', formatNumber(status.queuedSentences)],
    ['busy workers', loaded ? `${status.busyWorkers ?? 0} / ${workers}` : '–'],
    ['latency p50 / p99 (latest)', `${formatNumber(lastOf(history?.latencyP50Ms), 1)} / ${formatNumber(lastOf(history?.latencyP99Ms), 1)} ms`],
  ]);
  if (history) drawHistory(history, workers);
  const rows: [string, string][] = [
    ['model name', status.modelName ?? '–'],
    ['model directory', status.modelDir ?? '–'],
    ['heads', (status.heads ?? []).join(', ')],
    ['devices', (status.devices ?? []).join(', ')],
    ['libtorch', status.torchVersion ?? '–'],
    ['started at', status.startedAt ?? '–'],
    ...Object.entries(status.options ?? {}).map(([name, value]): [string, string] => [name, optionText(value)]),
  ];
  fillTable(byId('model-options'), rows, 'the model is loading');
}

function drawMetrics(samples: PrometheusSample[]): void {
  fillTable(byId('errors-by-code'), errorRows(samples), 'no errors');
  fillTable(byId('batch-sizes'), batchSizeRows(samples), 'no batches yet');
  fillTable(byId('requests-by-endpoint'), endpointRows(samples), 'no requests yet');
}

function showConnection(text: string, problem: boolean): void {
  const line = byId('connection');
  line.textContent = text;
  line.classList.toggle('problem', problem);
}

function askForKey(refused: boolean): void {
  byId('panels').hidden = true;
  byId('key-form').hidden = false;
  byId('key-error').textContent = refused ? 'The server refused that key.' : '';
  showConnection('waiting for the API key', true);
  byId<HTMLInputElement>('key-input').focus();
}

let timer: ReturnType<typeof setTimeout> | undefined;

async function refresh(): Promise<void> {
  clearTimeout(timer);
  timer = undefined;
  try {
    const [statusText, metricsText] = await Promise.all([fetchText(`/status?history=${HISTORY_SECONDS}`), fetchText('/metrics')]);
    byId('panels').hidden = false;
    drawStatus(JSON.parse(statusText) as StatusAnswer);
    drawMetrics(parsePrometheusText(metricsText));
    showConnection(`updated ${new Date().toLocaleTimeString()}`, false);
  } catch (error) {
    if (error instanceof KeyNeeded) return askForKey(error.refused); // no more polling until a key is given
    showConnection(`cannot read the server: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  timer = setTimeout(() => void refresh(), REFRESH_MS);
}

byId<HTMLFormElement>('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('key-input');
  sessionStorage.setItem(KEY_STORAGE, input.value.trim());
  input.value = '';
  byId('key-form').hidden = true;
  void refresh();
});

window.addEventListener('resize', () => {
  for (const chart of Object.values(charts)) chart.resize();
});

void refresh();
