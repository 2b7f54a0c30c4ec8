/**
 * The dashboard page: structure only, no data and no inline script or style (its Content-Security-Policy
 * allows 'self' only). browser/dashboard.mts fills it from /status and /metrics.
 */

/** One chart: its figure carries data-points and data-peaks once drawn (what the page shows, in numbers). */
function chart(id: string, title: string): string {
  return `<figure class="chart" id="chart-${id}" data-points="0"><figcaption>${title}</figcaption><div class="plot"></div></figure>`;
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bert-embed dashboard</title>
<link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/uPlot.min.css">
<link rel="stylesheet" href="/dashboard/dashboard.css">
<script src="/dashboard/uPlot.iife.min.js" defer></script>
<script type="module" src="/dashboard/dashboard.mjs"></script>
</head>
<body>
<header>
  <h1>bert-embed <span id="model-name">…</span></h1>
  <p id="summary"></p>
  <p id="connection" role="status">connecting…</p>
</header>
<form id="key-form" hidden>
  <p>This server requires its API key (<code>--api-key</code>). It is kept in this tab only (sessionStorage).</p>
  <label>API key <input type="password" id="key-input" autocomplete="off" required></label>
  <button type="submit">Show the dashboard</button>
  <p id="key-error" role="alert"></p>
</form>
<main id="panels">
  <section class="tiles" aria-label="totals">
    <dl id="totals"></dl>
  </section>
  <section class="charts" aria-label="the last ten minutes">
    ${chart('throughput', 'Requests and sentences per second')}
    ${chart('latency', 'Latency of the model requests (ms), p50 and p99')}
    ${chart('load', 'Queue depth (sentences) and busy workers')}
    ${chart('batches', 'Mean batch size and padding (%)')}
    ${chart('errors', 'Error answers per second, by code')}
  </section>
  <section class="tables">
    <div>
      <h2>Errors by code</h2>
      <table id="errors-by-code"><thead><tr><th>code</th><th>answers</th></tr></thead><tbody></tbody></table>
    </div>
    <div>
      <h2>Batch sizes</h2>
      <table id="batch-sizes"><thead><tr><th>sentences per batch</th><th>batches</th></tr></thead><tbody></tbody></table>
    </div>
    <div>
      <h2>Requests by endpoint</h2>
      <table id="requests-by-endpoint"><thead><tr><th>endpoint</th><th>status</th><th>requests</th></tr></thead><tbody></tbody></table>
    </div>
    <div>
      <h2>Model and options</h2>
      <table id="model-options"><tbody></tbody></table>
    </div>
  </section>
</main>
</body>
</html>
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2f6f9f"/><path d="M3 12V8h2v4zm4 0V4h2v8zm4 0V6h2v6z" fill="#fff"/></svg>
`;
