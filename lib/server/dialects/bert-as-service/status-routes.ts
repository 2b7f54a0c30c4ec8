/** GET /status/server and GET /status/client, bert-as-service's status dicts (status.ts). */
import type { Handler } from '../../route.js';

export const serverStatusHandler: Handler = async (exchange) => {
  const encoder = exchange.readyEncoder();
  return { jsonText: JSON.stringify(exchange.server.bertAsService.serverStatus(encoder, exchange.server.listeningOn())) };
};

export const clientStatusHandler: Handler = async ({ server }) => ({ jsonText: JSON.stringify(server.bertAsService.clientStatus(server.listeningOn())) });
