// GET /dashboard (issue 14) in a real browser: Debian's headless Chromium, driven by playwright-core,
// against the real `bert-embed serve` process. The page must load with no console error, no failed
// request and nothing from another origin, name the model, draw the minutes before it was opened
// from the server's history (a burst sent before the page loads), follow errors by code, and with
// --api-key ask for the key before it shows anything.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncoderStatus } from '../../lib/encoder/encoder-status.js';
import { HISTORY_SECONDS, MetricsHistory } from '../../lib/server/dashboard/metrics-history.js';
import { BIN } from '../cli/run-cli.js';
import { checkpointDir } from '../helpers/checkpoints.js';
import { repoRoot } from '../reference/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const MODEL = checkpointDir('tiny');
const MODEL_NAME = 'dashboard-tiny';
const KEY = 'sk-dashboard-0123456789';
const SCREENSHOTS = path.join(repoRoot, 'test-output');
const BURST_REQUESTS = 40;
const SENTENCES_PER_REQUEST = 5;

interface Served {
  child: ChildProcess;
  origin: string;
  exited: Promise<unknown>;
}
const served: Served[] = [];
let browser: Browser;
let plain: Served;
let guarded: Served;

/** Starts `bert-embed serve` on TCP port 0 and waits until the model is loaded. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const cleanEnv = { ...process.env };
  delete cleanEnv.BERT_EMBED_API_KEY;
  const child = spawn(process.execPath, [BIN, 'serve', '-m', MODEL, '--port', '0', '--max-seq-len', '32', '--model-name', MODEL_NAME, ...args], { env: { ...cleanEnv, ...env } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('ready:') && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!stderr.includes('ready:')) throw new Error(`bert-embed serve ${args.join(' ')} did not start:\n${stderr}`);
  const started = { child, origin: `http://127.0.0.1:${/http:\/\/[^ ;]+:(\d+)/.exec(stderr)![1]}`, exited };
  served.push(started);
  return started;
}

async function postEncode(server: Served, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.origin}/encode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Sentences in the server's history: each sample's rate times its own interval (the first opened at `since`). */
function sentencesInHistory(history: { since: number | null; t: number[]; sentencesPerSecond: number[] }): number {
  let total = 0;
  for (let i = 0; i < history.t.length; i++) total += history.sentencesPerSecond[i] * (history.t[i] - (i === 0 ? history.since! : history.t[i - 1]));
  return total;
}

async function statusWithHistory(server: Served, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(`${server.origin}/status?history=600`, { headers });
  expect(response.status).toBe(200);
  return response.json();
}

/** What a page did: console errors, uncaught exceptions, failed requests, every URL it asked for, answers >= 400. */
function watch(page: Page): { consoleErrors: string[]; pageErrors: string[]; failed: string[]; urls: string[]; errorAnswers: string[] } {
  const seen = { consoleErrors: [] as string[], pageErrors: [] as string[], failed: [] as string[], urls: [] as string[], errorAnswers: [] as string[] };
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') seen.consoleErrors.push(`${message.type()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => seen.pageErrors.push(error.message));
  page.on('requestfailed', (request) => seen.failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  page.on('request', (request) => seen.urls.push(request.url()));
  page.on('response', (response) => {
    if (response.status() >= 400) seen.errorAnswers.push(`${response.status()} ${response.url()}`);
  });
  return seen;
}

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`dashboard screenshot: ${file}`);
}

const figureData = (page: Page, id: string): Promise<{ points: number; peaks: Record<string, number> }> =>
  page.$eval(`#chart-${id}`, (figure) => ({ points: Number((figure as HTMLElement).dataset.points), peaks: JSON.parse((figure as HTMLElement).dataset.peaks ?? '{}') }));

const tableRows = (page: Page, id: string): Promise<string[][]> =>
  page.$$eval(`#${id} tbody tr`, (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`the dashboard test needs Debian's Chromium at ${CHROMIUM}: run \`npm run setup\` (it installs the chromium package)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  [plain, guarded] = await Promise.all([serve([]), serve([], { BERT_EMBED_API_KEY: KEY })]);
});

afterAll(async () => {
  await browser?.close();
  for (const server of served) {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }
});

describe('GET /dashboard', () => {
  // The plain server gets no bad request before the browser test, which counts its errors by code.
  it('is a static page and files from this server, under a self-only Content-Security-Policy, without the key', async () => {
    for (const server of [plain, guarded]) {
      const page = await fetch(`${server.origin}/dashboard`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
      const html = await page.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file: none inline
      expect(html).not.toMatch(/\bstyle=|<style/);
      expect(html).not.toContain(MODEL_NAME); // no data in the page itself
      for (const asset of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1])) {
        expect(asset.startsWith('/dashboard/'), asset).toBe(true);
        const answer = await fetch(`${server.origin}${asset}`);
        expect(answer.status, asset).toBe(200);
        expect((await answer.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
      }
    }
    expect((await fetch(`${guarded.origin}/dashboard`, { method: 'POST' })).status).toBe(405);
    // the data is not open: /status still needs the key
    expect((await fetch(`${guarded.origin}/status`)).status).toBe(401);
  });

  it('/status?history=N answers the last N seconds; a bad N is refused naming the parameter', async () => {
    const authorization = { authorization: `Bearer ${KEY}` };
    // a server that has just started may not have closed its first second yet
    let status = await statusWithHistory(guarded, authorization);
    for (let tries = 0; tries < 30 && status.history.t.length === 0; tries++) {
      expect(status.history.since).toBe(null);
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await statusWithHistory(guarded, authorization);
    }
    expect(status.history.since).toBeLessThan(status.history.t[0]);
    expect(status.modelName).toBe(MODEL_NAME);
    expect(status.history.intervalMs).toBe(1000);
    const lengths = ['t', 'requestsPerSecond', 'sentencesPerSecond', 'latencyP50Ms', 'latencyP99Ms', 'queuedSentences', 'busyWorkers', 'meanBatchSize', 'paddingRatio'].map(
      (column) => status.history[column].length,
    );
    expect(new Set(lengths).size).toBe(1);
    expect(lengths[0]).toBeGreaterThan(0);
    const short = (await (await fetch(`${guarded.origin}/status?history=1`, { headers: authorization })).json()).history;
    expect(short.t.length).toBe(1);
    expect('history' in (await (await fetch(`${guarded.origin}/status`, { headers: authorization })).json())).toBe(false);
    for (const bad of ['0', '601', 'abc', '1.5']) {
      const answer = await fetch(`${guarded.origin}/status?history=${bad}`, { headers: authorization });
      expect(answer.status).toBe(422);
      expect(await answer.json()).toEqual({ code: 'ERR_VALIDATION', error: `Expected whole seconds from 1 to 600 for history but received "${bad}" of type string` });
    }
  });

  it('opened after a burst, it names the model, draws the burst from the server history, and follows errors by code', async () => {
    // The burst, before any page is open: 40 requests of 5 sentences, and one invalid request.
    const sentences = Array.from({ length: SENTENCES_PER_REQUEST }, (_, i) => `sentence number ${i} of the dashboard burst`);
    const answers = await Promise.all(Array.from({ length: BURST_REQUESTS }, () => postEncode(plain, { texts: sentences })));
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const invalid = await postEncode(plain, { texts: 5 });
    expect(invalid.status).toBe(422);
    expect((await invalid.json()).code).toBe('ERR_VALIDATION');

    // The server's own account, once the second holding the burst is sampled.
    const burstSentences = BURST_REQUESTS * SENTENCES_PER_REQUEST;
    let status = await statusWithHistory(plain);
    const sampled = (): boolean => sentencesInHistory(status.history) > burstSentences - 1 && status.history.errors.ERR_VALIDATION !== undefined;
    for (let tries = 0; tries < 50 && !sampled(); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await statusWithHistory(plain);
    }
    expect(status.sentences).toBe(burstSentences);
    // rates are rounded to 3 decimals and times to the millisecond
    expect(Math.abs(sentencesInHistory(status.history) - burstSentences)).toBeLessThan(1.5);
    expect(status.history.errors.ERR_VALIDATION.reduce((a: number, b: number) => a + b, 0)).toBe(1);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const seen = watch(page);
    await page.goto(`${plain.origin}/dashboard`);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-throughput')?.dataset.points) > 0, null, { timeout: 15_000 });
    expect(await page.textContent('#model-name')).toBe(MODEL_NAME);

    const throughput = await figureData(page, 'throughput');
    expect(throughput.points).toBeGreaterThanOrEqual(status.history.t.length);
    // what the chart draws is the server's history: the same peak rates
    expect(throughput.peaks['sentences/s']).toBeGreaterThan(0);
    expect(throughput.peaks['sentences/s']).toBe(Math.max(...status.history.sentencesPerSecond));
    expect(throughput.peaks['requests/s']).toBe(Math.max(...status.history.requestsPerSecond));
    expect((await figureData(page, 'latency')).peaks.p99).toBeGreaterThan(0);
    expect((await figureData(page, 'batches')).peaks['mean batch size']).toBeGreaterThanOrEqual(1);
    expect((await figureData(page, 'errors')).peaks.ERR_VALIDATION).toBeGreaterThan(0);
    expect(await tableRows(page, 'errors-by-code')).toEqual([['ERR_VALIDATION', '1']]);
    const totals = await page.$$eval('#totals div', (items) => Object.fromEntries(items.map((item) => [item.querySelector('dt')!.textContent, item.querySelector('dd')!.textContent])));
    expect(totals.sentences).toBe(String(burstSentences));
    expect(totals.requests).toBe(String(BURST_REQUESTS));
    const options = Object.fromEntries(await tableRows(page, 'model-options'));
    expect(options['model directory']).toBe(MODEL);
    expect(options.maxSeqLen).toBe('32');

    // A bad request while the page is open shows up at its next refresh.
    expect((await fetch(`${plain.origin}/no-such-endpoint`)).status).toBe(404);
    await page.waitForFunction(() => document.querySelector('#errors-by-code')?.textContent?.includes('ERR_NOT_FOUND'), null, { timeout: 10_000 });
    expect(await tableRows(page, 'errors-by-code')).toEqual([
      ['ERR_NOT_FOUND', '1'],
      ['ERR_VALIDATION', '1'],
    ]);
    await screenshot(page, 'dashboard.png');

    const origin = new URL(plain.origin).origin;
    expect(seen.urls.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(seen.urls).toContain(`${origin}/dashboard/uPlot.iife.min.js`);
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.failed).toEqual([]);
    expect(seen.errorAnswers).toEqual([]);
    await page.close();
  });

  it('with --api-key, the page asks for the key, refuses a wrong one, then shows the data with the right one', async () => {
    for (let i = 0; i < 3; i++) expect((await postEncode(guarded, { texts: ['a sentence for the guarded server'] }, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    // The history is sampled once a second: wait until it holds these requests, or a page opened within that
    // second draws no requests while /status asked later does (a clean-clone CI run saw 0 against 2.979).
    const deadline = Date.now() + 10_000;
    while (Math.max(0, ...(await statusWithHistory(guarded, { authorization: `Bearer ${KEY}` })).history.requestsPerSecond) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const seen = watch(page);
    await page.goto(`${guarded.origin}/dashboard`);
    await page.waitForSelector('#key-form:not([hidden])', { timeout: 15_000 });
    expect(await page.isHidden('#panels')).toBe(true);
    expect(await figureData(page, 'throughput')).toEqual({ points: 0, peaks: {} });

    await page.fill('#key-input', 'not-the-key');
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#key-error')?.textContent?.includes('refused'), null, { timeout: 10_000 });
    expect(await page.isVisible('#key-form')).toBe(true);

    await page.fill('#key-input', KEY);
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-throughput')?.dataset.points) > 0, null, { timeout: 15_000 });
    expect(await page.isHidden('#key-form')).toBe(true);
    expect(await page.textContent('#model-name')).toBe(MODEL_NAME);
    const status = await statusWithHistory(guarded, { authorization: `Bearer ${KEY}` });
    expect((await figureData(page, 'throughput')).peaks['requests/s']).toBe(Math.max(...status.history.requestsPerSecond));
    expect(await page.evaluate(() => sessionStorage.getItem('bert-embed-api-key'))).toBe(KEY);

    // A reload in the same tab keeps the key: no second prompt.
    await page.reload();
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#chart-throughput')?.dataset.points) > 0, null, { timeout: 15_000 });
    expect(await page.isHidden('#key-form')).toBe(true);
    await screenshot(page, 'dashboard-api-key.png');

    // The only errors are the two 401s that made the page ask (the browser logs each failed load).
    const status401 = `401 ${guarded.origin}/status?history=600`;
    expect(seen.errorAnswers.filter((answer) => answer !== status401 && answer !== `401 ${guarded.origin}/metrics`)).toEqual([]);
    expect(seen.errorAnswers.filter((answer) => answer === status401)).toHaveLength(2);
    expect(seen.consoleErrors.filter((message) => !/status of 401/.test(message))).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.failed).toEqual([]);
    expect(seen.urls.filter((url) => new URL(url).origin !== new URL(guarded.origin).origin)).toEqual([]);
    await page.close();
  });
});

describe("the server's history behind /status?history", () => {
  /** The pool's counters after `second` seconds of a steady 2 requests, 10 sentences and 1 batch a second, a quarter of it padding. */
  const steady = (second: number): EncoderStatus =>
    ({
      requests: 2 * second,
      sentences: 10 * second,
      batches: second,
      workers: [{ device: 'cpu', batches: second, sentences: 10 * second, busyMs: 0 }],
      paddedTokens: 100 * second,
      paddingRatio: 0.25,
      queuedSentences: second % 7,
      busyWorkers: second % 2,
    }) as EncoderStatus;

  it('keeps the last ten minutes, one sample a second, and forgets the older ones', () => {
    const history = new MetricsHistory(0);
    const seconds = HISTORY_SECONDS + 50;
    for (let second = 1; second <= seconds; second++) {
      if (second === 10) history.recordError('ERR_OVERLOADED'); // falls out of the window
      if (second === seconds - 3) {
        history.recordError('ERR_VALIDATION');
        history.recordError('ERR_VALIDATION');
      }
      if (second === seconds) for (let ms = 100; ms >= 1; ms--) history.recordLatency(ms / 1000);
      history.sample(steady(second), second * 1000);
    }
    const columns = history.columns(HISTORY_SECONDS);
    expect(columns.t).toHaveLength(HISTORY_SECONDS);
    expect(columns.t[0]).toBe(seconds - HISTORY_SECONDS + 1);
    expect(columns.since).toBe(seconds - HISTORY_SECONDS);
    expect(columns.t.at(-1)).toBe(seconds);
    expect(new Set(columns.requestsPerSecond)).toEqual(new Set([2]));
    expect(new Set(columns.sentencesPerSecond)).toEqual(new Set([10]));
    expect(new Set(columns.meanBatchSize)).toEqual(new Set([10]));
    expect(new Set(columns.paddingRatio)).toEqual(new Set([0.25]));
    expect(columns.queuedSentences).toEqual(columns.t.map((t) => t % 7));
    expect(columns.busyWorkers).toEqual(columns.t.map((t) => t % 2));
    // nearest-rank percentiles of 1..100 ms, in the one second that had requests
    expect(columns.latencyP50Ms.slice(-2)).toEqual([null, 50]);
    expect(columns.latencyP99Ms.slice(-2)).toEqual([null, 99]);
    expect(Object.keys(columns.errors)).toEqual(['ERR_VALIDATION']);
    expect(columns.errors.ERR_VALIDATION.slice(-5)).toEqual([0, 2, 0, 0, 0]);
    const lastFive = history.columns(5);
    expect(lastFive.t).toEqual(columns.t.slice(-5));
    expect(lastFive.errors.ERR_VALIDATION).toEqual([0, 2, 0, 0, 0]);
  });

  it('rates are per second of the real interval, and a second of 10 000 requests keeps exact percentiles of equal latencies', () => {
    const history = new MetricsHistory(0);
    expect(history.columns(HISTORY_SECONDS).since).toBe(null);
    history.sample(steady(4), 2000); // a late tick: 40 sentences over 2 s
    for (let i = 0; i < 10_000; i++) history.recordLatency(0.007);
    history.sample(steady(4), 3000); // nothing new
    const columns = history.columns(HISTORY_SECONDS);
    expect(columns.sentencesPerSecond).toEqual([20, 0]);
    expect(columns.since).toBe(0); // the late first interval, 0 to 2 s, is told, not assumed
    expect(columns.requestsPerSecond).toEqual([4, 0]);
    expect(columns.meanBatchSize).toEqual([10, null]);
    expect(columns.paddingRatio).toEqual([0.25, null]);
    expect(columns.latencyP50Ms).toEqual([null, 7]);
    expect(columns.latencyP99Ms).toEqual([null, 7]);
  });
});
