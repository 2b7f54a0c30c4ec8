/** GET /health: 200 once the model serves, 503 before and while shutting down (a load balancer's check). */
import type { Handler } from '../../route.js';

export const healthHandler: Handler = async (exchange) => {
  exchange.readyEncoder();
  return { jsonText: '{"status":"ok"}' };
};
