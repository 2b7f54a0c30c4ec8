/** The dashboard's style sheet (served as a file: the page's CSP allows no inline style). */
export const DASHBOARD_CSS = `:root { color-scheme: light; font-family: system-ui, sans-serif; color: #1d2733; background: #f4f6f8; }
body { margin: 0 auto; max-width: 1400px; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 1.4rem; }
#model-name { color: #2f6f9f; }
#summary, #connection { margin: 2px 0; color: #4a5868; }
#connection.problem { color: #b3261e; }
#key-form { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
#key-form input { margin: 0 8px; padding: 4px 6px; }
#key-error { color: #b3261e; min-height: 1em; }
main[hidden] { display: none; }
.tiles dl { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.tiles dl div { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; min-width: 110px; }
.tiles dt { font-size: 0.75rem; color: #4a5868; }
.tiles dd { margin: 2px 0 0; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
.chart { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 0; padding: 8px; min-width: 0; }
.chart figcaption { font-weight: 600; margin-bottom: 4px; }
.plot { min-height: 220px; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; margin-top: 12px; }
.tables h2 { font-size: 1rem; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e4e8ec; font-size: 0.85rem; overflow-wrap: anywhere; }
td.number { text-align: right; }
`;
