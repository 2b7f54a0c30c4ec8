/**
 * The files of `GET /dashboard`: the page, its style, its scripts (compiled by tsc from ./browser/
 * into dist/) and uPlot from node_modules. They hold no data, so they are served without the API
 * key; the page asks for the key when /status answers 401. Nothing is loaded from another origin.
 */
import fs from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { httpError } from '../http-error.js';
import { DASHBOARD_CSS } from './dashboard-css.js';
import { DASHBOARD_HTML, FAVICON_SVG } from './dashboard-html.js';

const packageRoot = path.resolve(__dirname, '..', '..', '..');
/** Where tsc writes the browser scripts: dist/, whether this module runs from dist/ or (in tests) from lib/. */
const BROWSER_SCRIPTS = path.join(packageRoot, 'dist', 'server', 'dashboard', 'browser');
const requireFromPackage = createRequire(path.join(packageRoot, 'package.json'));

/** Only 'self': no inline script or style, no other origin, no framing. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const JAVASCRIPT = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

interface AssetSource {
  contentType: string;
  read(): string | Buffer;
}

/** A browser script compiled by tsc, without its source-map comment (the maps are not served). */
function browserScript(name: string): AssetSource {
  return { contentType: JAVASCRIPT, read: () => fs.readFileSync(path.join(BROWSER_SCRIPTS, name), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n') };
}

function uPlotFile(name: string, contentType: string): AssetSource {
  return { contentType, read: () => fs.readFileSync(requireFromPackage.resolve(`uplot/dist/${name}`)) };
}

const ASSETS: Record<string, AssetSource> = {
  '/dashboard': { contentType: 'text/html; charset=utf-8', read: () => DASHBOARD_HTML },
  '/dashboard/dashboard.css': { contentType: CSS, read: () => DASHBOARD_CSS },
  '/dashboard/favicon.svg': { contentType: 'image/svg+xml', read: () => FAVICON_SVG },
  '/dashboard/uPlot.min.css': uPlotFile('uPlot.min.css', CSS),
  '/dashboard/uPlot.iife.min.js': uPlotFile('uPlot.iife.min.js', JAVASCRIPT),
  '/dashboard/dashboard.mjs': browserScript('dashboard.mjs'),
  '/dashboard/charts.mjs': browserScript('charts.mjs'),
  '/dashboard/panels.mjs': browserScript('panels.mjs'),
  '/dashboard/prometheus-text.mjs': browserScript('prometheus-text.mjs'),
};

/** The dashboard's paths, exactly: none of them needs the API key. */
export const DASHBOARD_PATHS: readonly string[] = Object.keys(ASSETS);

const loaded = new Map<string, Buffer>();

function contentOf(urlPath: string, source: AssetSource): Buffer {
  let content = loaded.get(urlPath);
  if (!content) {
    try {
      const read = source.read();
      content = typeof read === 'string' ? Buffer.from(read, 'utf8') : read;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw httpError('ERR_INTERNAL', `the dashboard's ${urlPath} is missing from this installation (${detail}); build it with npm run build:ts`);
    }
    loaded.set(urlPath, content);
  }
  return content;
}

/** Answers a request for one of DASHBOARD_PATHS. */
export function sendDashboardAsset(request: http.IncomingMessage, response: http.ServerResponse, urlPath: string): void {
  const source = ASSETS[urlPath];
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') throw httpError('ERR_METHOD', `${urlPath} takes GET, not ${method}`);
  const content = contentOf(urlPath, source);
  response.writeHead(200, {
    'content-type': source.contentType,
    'content-length': content.length,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // the files change with the installed version only, but a stale page against a new server helps nobody
    'cache-control': 'no-cache',
  });
  response.end(method === 'HEAD' ? undefined : content);
}
