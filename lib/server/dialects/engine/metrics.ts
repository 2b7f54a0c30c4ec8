/** GET /metrics: Prometheus' text exposition of the server's requests and the encoder's pool. */
import type { Handler } from '../../route.js';

export const metricsHandler: Handler = async ({ server }) => ({ text: server.metrics.render(server.encoder?.status()), contentType: 'text/plain; version=0.0.4' });
