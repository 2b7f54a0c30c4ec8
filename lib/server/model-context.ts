/** The model endpoints' common first steps: read the body, then require a loaded model. */
import type { Exchange, Handler, Route, RouteContext } from './route.js';

export async function modelContext(exchange: Exchange): Promise<RouteContext> {
  // The body first: a client gets 413 or 400 for its body even while the model loads.
  const body = await exchange.readBody();
  const encoder = exchange.readyEncoder();
  const { maxInputs, modelName, showTokensToClient } = exchange.server.settings;
  const binary = (exchange.request.headers.accept ?? '').includes('application/octet-stream');
  return { encoder, body: body as Record<string, unknown>, signal: exchange.signal, binary, maxInputs, modelName, showTokensToClient };
}

/** The table's handler for a model endpoint. */
export function modelRoute(route: Route): Handler {
  return async (exchange) => route(await modelContext(exchange));
}
