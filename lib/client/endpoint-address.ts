/**
 * Where a BertClient sends its requests: one server (`{ socket }` or `{ host, port }`) or a list of
 * them (`{ endpoints: [...] }`), checked and named once, at construction.
 */
import { checkInteger, checkPlainObject, rejectUnknownOptions, fieldError } from '../validation.js';

export type BertClientEndpoint = { socket: string } | { host: string; port: number };

export type BertClientTarget = BertClientEndpoint | { endpoints: BertClientEndpoint[] };

export interface EndpointAddress {
  /** `unix:/run/bert.sock` or `http://10.0.0.7:5555`: how messages and statistics name it */
  name: string;
  /** http.request's options for it */
  location: { socketPath: string } | { host: string; port: number };
}

const ENDPOINT_SHAPE = '{ socket } or { host, port }';

export function endpointAddressesOf(target: unknown): EndpointAddress[] {
  const where = checkPlainObject('target', target);
  if (!('endpoints' in where)) return [endpointAddressOf('target', where)];
  rejectUnknownOptions('target', where, ['endpoints']);
  const list = where.endpoints;
  if (!Array.isArray(list)) throw fieldError(TypeError, 'endpoints', `non-empty array of ${ENDPOINT_SHAPE}`, list);
  if (list.length === 0) throw fieldError(RangeError, 'endpoints', `non-empty array of ${ENDPOINT_SHAPE}`, list);
  const addresses = list.map((endpoint, i) => endpointAddressOf(`endpoints[${i}]`, endpoint));
  addresses.forEach((address, i) => {
    const first = addresses.findIndex((other) => other.name === address.name);
    // Two entries for one server would give it two pools of connections and two down-timers.
    if (first !== i) throw new RangeError(`Expected distinct servers in endpoints but endpoints[${i}] is endpoints[${first}] again (${address.name})`);
  });
  return addresses;
}

function endpointAddressOf(field: string, endpoint: unknown): EndpointAddress {
  const where = checkPlainObject(field, endpoint);
  rejectUnknownOptions(field, where, ['socket', 'host', 'port']);
  if ('socket' in where) {
    if ('host' in where || 'port' in where) throw fieldError(TypeError, field, `${ENDPOINT_SHAPE}, not both`, endpoint);
    if (typeof where.socket !== 'string') throw fieldError(TypeError, `${field}.socket`, 'non-empty string (a UNIX socket path)', where.socket);
    if (where.socket === '') throw fieldError(RangeError, `${field}.socket`, 'non-empty string (a UNIX socket path)', where.socket);
    return { name: `unix:${where.socket}`, location: { socketPath: where.socket } };
  }
  if (!('host' in where) || !('port' in where)) throw fieldError(TypeError, field, ENDPOINT_SHAPE, endpoint);
  if (typeof where.host !== 'string') throw fieldError(TypeError, `${field}.host`, 'non-empty string', where.host);
  if (where.host === '') throw fieldError(RangeError, `${field}.host`, 'non-empty string', where.host);
  const port = checkInteger(`${field}.port`, where.port, 1, 65535);
  const host = where.host.includes(':') ? `[${where.host}]` : where.host;
  return { name: `http://${host}:${port}`, location: { host: where.host, port } };
}
