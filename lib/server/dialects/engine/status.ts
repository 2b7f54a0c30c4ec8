/** GET /status[?history=N]: the server's state, the encoder's status, and its last N seconds for the dashboard. */
import { historySecondsAsked } from '../../dashboard/metrics-history.js';
import type { Handler } from '../../route.js';

export const statusHandler: Handler = async ({ request, server }) => {
  const history = historySecondsAsked(request.url);
  const loaded = server.encoder ? { modelName: server.settings.modelName, ...server.encoder.status() } : {};
  return { jsonText: JSON.stringify({ state: server.state, ...loaded, ...(history === undefined ? {} : { history: server.metrics.history(history) }) }) };
};
