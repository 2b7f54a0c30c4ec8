// The Python client (clients/python, pip-installed editable into .venv by `npm run setup`) over
// several real `bert-embed serve` processes: endpoints_client.py drives it (threads, a SIGKILL, a
// SIGTERM drain), and every vector it received is checked here against the in-process Node API's
// vectors for that request's own texts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Encoder } from '../../lib/index.js';
import { expectVectorsClose } from '../helpers/compare.js';
import { VENV_PYTHON } from '../reference/hf-mlm.js';
import { repoRoot } from '../reference/helpers.js';
import { float32OfBase64, runClientScript } from '../helpers/python-client.js';
import { distinctRequests, loadReferenceEncoder, longRequest, referenceVectors, requestsCounted, Servers, type Served } from './endpoints-servers.js';

const SCRIPT = path.join(repoRoot, 'test', 'scale-out', 'endpoints_client.py');
const SCRIPT_WITHIN_MS = 300_000;
/** Enough work that the request is still running when the script's SIGTERM arrives a few ms after it was sent. */
const LONG_REQUEST_TEXTS = 8_000;

let encoder: Encoder;
let servers: Servers;

beforeAll(async () => {
  if (!fs.existsSync(VENV_PYTHON)) throw new Error(`${VENV_PYTHON} does not exist: run \`npm run setup\` to make the Python virtual environment`);
  encoder = await loadReferenceEncoder();
});
afterAll(async () => {
  await encoder?.close();
});
afterEach(async () => {
  await servers?.stopAll();
});

function startServers(names: string[]): Promise<Served[]> {
  servers = new Servers();
  return servers.startMany(names);
}

/** Runs a scenario of endpoints_client.py with .venv's Python, outside the repository (the package must come from pip). */
function python(args: Record<string, unknown>): Promise<any> {
  const argsFile = path.join(servers.dir, 'args.json');
  fs.writeFileSync(argsFile, JSON.stringify(args));
  return runClientScript(SCRIPT, [argsFile], SCRIPT_WITHIN_MS);
}


function expectAnswers(answers: { shape: number[]; float32: string }[], requests: string[][], expected: Float32Array[]): void {
  expect(answers).toHaveLength(requests.length);
  answers.forEach((answer, i) => {
    expect(answer, `request ${i} was not answered`).not.toBeNull();
    expect(answer.shape).toEqual([requests[i].length, encoder.dimension]);
    expectVectorsClose(float32OfBase64(answer), expected[i], encoder.dimension, 1e-6, `request ${i}`);
  });
}

/** The first over its socket, the second over TCP as a (host, port) pair, the third as an http:// URL. */
function endpointsOf(served: Served[]): unknown[] {
  return served.map((server, i) => (i === 0 ? `unix:${server.socket}` : i === 1 ? ['127.0.0.1', server.port] : `http://127.0.0.1:${server.port}`));
}

describe('the Python client over several servers', () => {
  it('one of three servers SIGKILLed under load from 8 threads: every request answered once, with its own vectors', async () => {
    const served = await startServers(['a', 'b', 'c']);
    const requests = distinctRequests(300, 3);
    const expected = await referenceVectors(encoder, requests);
    const victim = served[1];
    const record = await python({ scenario: 'kill_under_load', endpoints: endpointsOf(served), requests, threads: 8, max_concurrency: 6, kill_pid: victim.child.pid, kill_after: 100 });
    expect(record.errors).toEqual([]);
    expect(await victim.exited).toBeNull();
    expect(victim.child.signalCode).toBe('SIGKILL');
    expectAnswers(record.answers, requests, expected);
    // spread over all three before the kill
    expect(record.at_kill.map((stats: any) => stats.answered).every((count: number) => count > 0), JSON.stringify(record.at_kill)).toBe(true);
    const after = record.after;
    expect(after[1].failures, JSON.stringify(after)).toBeGreaterThanOrEqual(1);
    expect(after[1].last_failure).toMatch(/^(ECONNRESET|ECONNREFUSED|EPIPE|RemoteDisconnected|IncompleteRead)$/);
    // each request answered by exactly one server, and the construction's GET /status/server by the
    // first (all idle: the first in turn); the survivors counted the encode requests the client says they answered
    expect(after.reduce((sum: number, stats: any) => sum + stats.answered, 0)).toBe(requests.length + 1);
    expect(after.every((stats: any) => stats.pending === 0)).toBe(true);
    expect(await requestsCounted(served[0])).toBe(after[0].answered - 1);
    expect(await requestsCounted(served[2])).toBe(after[2].answered);
  });

  it('a server draining after SIGTERM answers 503 on a kept-alive connection: the request goes to another server', async () => {
    const [draining, other] = await startServers(['draining', 'other']);
    const [moved] = distinctRequests(1, 4);
    const long = longRequest(LONG_REQUEST_TEXTS);
    const record = await python({
      scenario: 'drain_503',
      endpoints: [`unix:${draining.socket}`, ['127.0.0.1', other.port]],
      draining_socket: draining.socket,
      draining_pid: draining.child.pid,
      long,
      moved,
    });
    expect(record.long_in_flight_at_drain, 'the long request must still be in flight when the drain starts; make it longer').toBe(true);
    expect(record.long).toEqual({ value: [long.length, encoder.dimension] });
    expectVectorsClose(float32OfBase64(record.moved), (await encoder.encode(moved)).data, encoder.dimension, 1e-6, 'moved request');
    const [onDraining, onOther] = record.after;
    expect(onDraining).toMatchObject({ sent: 2, answered: 1, failures: 1, last_failure: 'HTTP 503 ERR_SHUTTING_DOWN', down: true, pending: 0 });
    expect(onOther).toMatchObject({ sent: 2, answered: 2, failures: 0, last_failure: null });
    expect(await draining.exited).toBe(0);
  });

  it('every server down: ServerConnectionError (ERR_CONNECTION) at once, naming each server tried and why', async () => {
    const served = await startServers(['gone-a', 'gone-b']);
    for (const server of served) server.child.kill('SIGKILL');
    await Promise.all(served.map((server) => server.exited));
    const record = await python({ scenario: 'all_down', endpoints: endpointsOf(served) });
    for (const attempt of ['construct', 'encode_unchecked']) {
      expect(record[attempt].classes, attempt).toEqual(expect.arrayContaining(['ServerConnectionError', 'BertEmbedError', 'ConnectionError']));
      expect(record[attempt].code).toBe('ERR_CONNECTION');
      expect(record[attempt].message).toBe(`no server could answer; tried unix:${served[0].socket} (ECONNREFUSED), http://127.0.0.1:${served[1].port} (ECONNREFUSED)`);
      expect(record[attempt].seconds).toBeLessThan(1);
    }
  });

  it('a dead server is left out for down_for_ms, then tried again', async () => {
    const [dead, live] = await startServers(['dead', 'live']);
    dead.child.kill('SIGKILL');
    await dead.exited;
    const requests = distinctRequests(4, 2);
    const expected = await referenceVectors(encoder, requests);
    const record = await python({ scenario: 'down_for', endpoints: [`unix:${dead.socket}`, `unix:${live.socket}`], requests });
    expectAnswers(record.answers, requests, expected);
    expect(record.while_down.map((stats: any) => [stats.sent, stats.failures, stats.down])).toEqual([
      [1, 1, true],
      [3, 0, false],
    ]);
    // 0.7 s later, past down_for_ms=500: round-robin tries it again (and it fails again)
    expect(record.after.map((stats: any) => [stats.sent, stats.failures, stats.answered])).toEqual([
      [2, 2, 0],
      [4, 0, 4],
    ]);
  });

  it("round_robin: requests from 6 threads spread evenly, as each server's own count shows", async () => {
    const served = await startServers(['rr-a', 'rr-b', 'rr-c']);
    const requests = distinctRequests(30, 2);
    const expected = await referenceVectors(encoder, requests);
    const record = await python({ scenario: 'round_robin', endpoints: endpointsOf(served), requests });
    expect(record.errors).toEqual([]);
    expectAnswers(record.answers, requests, expected);
    expect(record.after.map((stats: any) => stats.answered)).toEqual([10, 10, 10]);
    expect(await Promise.all(served.map(requestsCounted))).toEqual([10, 10, 10]);
  });

  it('least_pending: while one server holds a request (SIGSTOP), the next ones go to the idle one', async () => {
    const [held, idle] = await startServers(['lp-held', 'lp-idle']);
    const requests = distinctRequests(7, 2);
    const expected = await referenceVectors(encoder, requests);
    const record = await python({ scenario: 'least_pending', endpoints: endpointsOf([held, idle]), requests, held_pid: held.child.pid });
    expectAnswers(record.answers, requests, expected);
    expect(record.while_held.map((stats: any) => [stats.pending, stats.answered])).toEqual([
      [1, 0],
      [0, 6],
    ]);
    expect(record.after.map((stats: any) => stats.answered)).toEqual([1, 6]);
  });
});

describe('the Python client: endpoints arguments', () => {
  it('TypeError or ValueError naming the argument, what was expected and received', async () => {
    servers = new Servers();
    const record = await python({ scenario: 'validation' });
    const forms = "'unix:/path/to/socket', 'http://host:port' or a (host, port) tuple";
    const expectations: [string, string, string][] = [
      ['not_a_list', 'TypeError', `Expected a non-empty list of ${forms} for endpoints but received 'unix:/tmp/a.sock' of type str`],
      ['empty', 'ValueError', `Expected a non-empty list of ${forms} for endpoints but received [] of type list`],
      ['bad_url', 'ValueError', `Expected ${forms} for endpoints[0] but received 'tcp://127.0.0.1:5555' of type str`],
      ['no_port', 'ValueError', `Expected ${forms} for endpoints[0] but received 'http://127.0.0.1' of type str`],
      ['bad_type', 'TypeError', `Expected ${forms} for endpoints[0] but received 5555 of type int`],
      ['bad_tuple_port', 'ValueError', 'Expected an integer port from 1 to 65535 for endpoints[0] port but received 0 of type int'],
      ['duplicate', 'ValueError', 'Expected distinct servers in endpoints but endpoints[1] is endpoints[0] again (unix:/tmp/a.sock)'],
      ['with_socket', 'TypeError', "Expected either endpoints or ip/port/socket but received endpoints and socket='/tmp/b.sock'"],
      ['balance', 'ValueError', "Expected 'least_pending' or 'round_robin' for balance but received 'least-pending' of type str"],
      ['balance_type', 'TypeError', "Expected 'least_pending' or 'round_robin' for balance but received None of type NoneType"],
      ['down_for_ms', 'ValueError', 'Expected milliseconds >= 0 for down_for_ms but received -1 of type int'],
      ['down_for_ms_type', 'TypeError', "Expected milliseconds >= 0 for down_for_ms but received '5s' of type str"],
      ['misspelled', 'TypeError', "BertClient.__init__() got an unexpected keyword argument 'endpoint'"],
    ];
    for (const [call, kind, message] of expectations) {
      expect(record[call].classes[0], call).toBe(kind);
      expect(record[call].message, call).toBe(message);
    }
    expect(record.accepted).toEqual(['unix:/tmp/a.sock', 'http://127.0.0.1:5555', 'http://[::1]:5556', 'http://[::1]:5557']);
  });
});
