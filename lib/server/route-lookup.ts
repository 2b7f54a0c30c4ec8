/** Finding a request's entry in the route table, and the 404 and 405 it gets otherwise. */
import { httpError, type HttpError } from './http-error.js';
import type { RouteEntry } from './route.js';
import { ROUTES } from './route-table.js';

export interface RouteMatch {
  entry: RouteEntry;
  /** the parts of the path the entry's pattern names */
  params: Record<string, string | undefined>;
  /** the endpoint's label in /metrics */
  label: string;
}

/** The entry for a path, whatever the method (a wrong one is a 405 of that entry). */
export function findRoute(pathname: string): RouteMatch | undefined {
  for (const entry of ROUTES) {
    const params = entry.match ? entry.match(pathname) : pathname === entry.path ? {} : undefined;
    if (params) return { entry, params, label: entry.label ?? entry.path };
  }
  return undefined;
}

/** 405 unless the entry takes the method. */
export function checkMethod(entry: RouteEntry, method: string, pathname: string): void {
  if (method === entry.method || (method === 'HEAD' && entry.head)) return;
  throw httpError('ERR_METHOD', `${entry.label ?? pathname} takes ${entry.method}, not ${method}`);
}

/** 404, suggesting the endpoints of the table. */
export function notFound(pathname: string, modelName: string): HttpError {
  const hints = (method: RouteEntry['method']): string =>
    ROUTES.filter((entry) => entry.method === method && entry.hint !== null)
      .map((entry) => (entry.hint ?? entry.path).split('{model}').join(modelName))
      .join(', ');
  return httpError('ERR_NOT_FOUND', `no endpoint ${pathname}; try POST ${hints('POST')} or GET ${hints('GET')}`);
}
