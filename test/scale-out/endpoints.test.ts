// BertClient over several real `bert-embed serve` processes (`{ endpoints }`): requests spread
// round-robin or to the least busy server, and moved to another server when one dies (SIGKILL)
// or drains (SIGTERM, 503) under load. Every answer is checked against the in-process API's vectors
// for that request's own texts (no text is in two requests), so an answer given to the wrong
// caller, or twice, or lost, fails the test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BertClient, BertEmbedError, type BertClientEndpoint, type Encoder } from '../../lib/index.js';
import { expectVectorsClose } from '../helpers/compare.js';
import {
  distinctRequests,
  holdDrainOpen,
  loadReferenceEncoder,
  longRequest,
  referenceVectors,
  requestsCounted,
  Servers,
  sleep,
  untilEncoding,
  untilRefusing,
  type Served,
} from './endpoints-servers.js';

/** Enough work that the request is still running when the test's SIGTERM arrives a few ms after it was sent. */
const LONG_REQUEST_TEXTS = 8_000;

let encoder: Encoder;
let servers: Servers;
const clients: BertClient[] = [];

beforeAll(async () => {
  encoder = await loadReferenceEncoder();
});
afterAll(async () => {
  await encoder?.close();
});
// Each test starts its own servers and clients; whatever a test leaves (even failing) ends here.
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await servers?.stopAll();
});

function startServers(names: string[]): Promise<Served[]> {
  servers = new Servers();
  return servers.startMany(names);
}

function clientOf(endpoints: BertClientEndpoint[], options: ConstructorParameters<typeof BertClient>[1] = {}): BertClient {
  const client = new BertClient({ endpoints }, options);
  clients.push(client);
  return client;
}

/** The first over its socket, the second over TCP, the rest over sockets: both transports are in every test. */
function endpointsOf(served: Served[]): BertClientEndpoint[] {
  return served.map((server, i) => (i === 1 ? { host: '127.0.0.1', port: server.port } : { socket: server.socket }));
}

describe('BertClient over several servers', () => {
  it('one of three servers SIGKILLed under load: every request answered once, with its own vectors', async () => {
    const served = await startServers(['a', 'b', 'c']);
    const requests = distinctRequests(300, 3);
    const expected = await referenceVectors(encoder, requests);
    const client = clientOf(endpointsOf(served));
    const victim = served[1];
    const answers: Float32Array[] = new Array(requests.length);
    let next = 0;
    let answered = 0;
    let atKill: ReturnType<BertClient['endpointStats']> | undefined;
    const started = Date.now();
    // 8 callers in flight at once, each taking the next request as its last is answered.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const index = next++;
          answers[index] = (await client.encode(requests[index])).data;
          if (++answered === 100) {
            atKill = client.endpointStats();
            victim.child.kill('SIGKILL');
          }
        }
      }),
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await victim.exited).toBeNull();
    expect(victim.child.signalCode).toBe('SIGKILL');

    answers.forEach((answer, i) => expectVectorsClose(answer, expected[i], encoder.dimension, 1e-6, `request ${i}`));
    // spread over all three before the kill
    expect(atKill!.map((stats) => stats.answered).every((count) => count > 0), JSON.stringify(atKill)).toBe(true);
    const after = client.endpointStats();
    // the kill was noticed (requests in flight there, or sent after, went elsewhere) ...
    expect(after[1].failures, JSON.stringify(after)).toBeGreaterThanOrEqual(1);
    expect(after[1].lastFailure).toMatch(/^(ECONNRESET|ECONNREFUSED|ENOENT|EPIPE)$/);
    // ... and each request was answered by exactly one server: the survivors counted what the client says they answered
    expect(after.reduce((sum, stats) => sum + stats.answered, 0)).toBe(requests.length);
    expect(after.every((stats) => stats.pending === 0)).toBe(true);
    expect(await requestsCounted(served[0])).toBe(after[0].answered);
    expect(await requestsCounted(served[2])).toBe(after[2].answered);
  });

  it('a server draining after SIGTERM answers 503 on its open connection: the request goes to another server', async () => {
    const [draining, other] = await startServers(['draining', 'other']);
    // a busy machine may take long over the long request: no timeout should end it
    const client = clientOf([{ socket: draining.socket }, { host: '127.0.0.1', port: other.port }], { balance: 'round-robin', timeoutMs: 600_000 });
    const [moved] = distinctRequests(1, 4);
    const long = longRequest(LONG_REQUEST_TEXTS);

    // round-robin: the long request to the draining server, SIGTERM while the server works on it
    let longDone = false;
    const longAnswer = client.encode(long).finally(() => (longDone = true));
    await untilEncoding(draining);
    const drain = await holdDrainOpen(draining);
    try {
      draining.child.kill('SIGTERM');
      await untilRefusing(draining);
      expect(longDone, 'the long request must still be in flight when the drain starts; make it longer').toBe(false);
      // finished in the drain; its connection stays open
      expectVectorsClose((await longAnswer).data.subarray(0, 3 * encoder.dimension), (await encoder.encode(long.slice(0, 3))).data, encoder.dimension, 1e-6, 'long request');
      // one request to the other server, then the draining server's turn: on that open connection, 503
      await client.encode(['the other server in turn']);
      const answer = await client.encode(moved);
      expectVectorsClose(answer.data, (await encoder.encode(moved)).data, encoder.dimension, 1e-6, 'moved request');
    } finally {
      drain.release();
    }
    const [onDraining, onOther] = client.endpointStats();
    expect(onDraining).toMatchObject({ sent: 2, answered: 1, failures: 1, lastFailure: 'HTTP 503 ERR_SHUTTING_DOWN', down: true, pending: 0 });
    expect(onOther).toMatchObject({ sent: 2, answered: 2, failures: 0, lastFailure: null });
    expect(draining.stderr()).toContain('SIGTERM: finishing requests in flight');
    expect(await draining.exited).toBe(0);
  });

  it('every server down: ERR_CONNECTION naming each server tried and why', async () => {
    const served = await startServers(['gone-a', 'gone-b']);
    const endpoints = endpointsOf(served);
    for (const server of served) server.child.kill('SIGKILL');
    await Promise.all(served.map((server) => server.exited));
    const client = clientOf(endpoints);
    const started = Date.now();
    const error = await client.encode(['hello']).catch((thrown: unknown) => thrown);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(BertEmbedError);
    expect(error).toMatchObject({ code: 'ERR_CONNECTION' });
    expect((error as Error).message).toBe(`no server could answer; tried unix:${served[0].socket} (ECONNREFUSED), http://127.0.0.1:${served[1].port} (ECONNREFUSED)`);
    // both marked down, and tried again all the same (in the order they come back): the error is the same
    expect(client.endpointStats().map((stats) => [stats.down, stats.failures])).toEqual([
      [true, 1],
      [true, 1],
    ]);
    await expect(client.status()).rejects.toMatchObject({ code: 'ERR_CONNECTION', message: expect.stringContaining('tried unix:') });

    // one server: its own error, as before endpoints existed
    const single = new BertClient({ socket: served[0].socket });
    clients.push(single);
    await expect(single.encode(['hello'])).rejects.toMatchObject({ code: 'ERR_CONNECTION', message: `cannot reach the server at unix:${served[0].socket} (ECONNREFUSED)` });
  });

  it('a server left out after a failure is tried again once downForMs has passed', async () => {
    const [flaky, steady] = await startServers(['flaky', 'steady']);
    const client = clientOf([{ socket: flaky.socket }, { socket: steady.socket }], { balance: 'round-robin', downForMs: 1_000 });
    flaky.child.kill('SIGKILL');
    await flaky.exited;
    const requests = distinctRequests(6, 2);
    const expected = await referenceVectors(encoder, requests);
    // down: everything goes to the steady server
    for (let i = 0; i < 3; i++) expectVectorsClose((await client.encode(requests[i])).data, expected[i], encoder.dimension, 1e-6, `while down ${i}`);
    expect(client.endpointStats().map((stats) => [stats.answered, stats.failures, stats.down])).toEqual([
      [0, 1, true],
      [3, 0, false],
    ]);
    // the same socket served again; once the down time is over, round-robin reaches it again
    await servers.start('flaky', flaky.socket);
    await sleep(1_100);
    for (let i = 3; i < 6; i++) expectVectorsClose((await client.encode(requests[i])).data, expected[i], encoder.dimension, 1e-6, `back ${i}`);
    const [back] = client.endpointStats();
    expect(back).toMatchObject({ down: false, failures: 1 });
    expect(back.answered).toBeGreaterThanOrEqual(1);
  });

  it("round-robin: concurrent requests spread evenly, as each server's own count shows", async () => {
    const served = await startServers(['rr-a', 'rr-b', 'rr-c']);
    const client = clientOf(endpointsOf(served), { balance: 'round-robin' });
    const requests = distinctRequests(30, 2);
    const expected = await referenceVectors(encoder, requests);
    const answers = await Promise.all(requests.map((texts) => client.encode(texts)));
    answers.forEach((answer, i) => expectVectorsClose(answer.data, expected[i], encoder.dimension, 1e-6, `request ${i}`));
    expect(client.endpointStats().map((stats) => stats.answered)).toEqual([10, 10, 10]);
    expect(await Promise.all(served.map(requestsCounted))).toEqual([10, 10, 10]);
  });

  it('least-pending: while one server holds a request, the next ones go to the idle one (round-robin would not)', async () => {
    const [held, idle] = await startServers(['lp-held', 'lp-idle']);
    const requests = distinctRequests(7, 2);
    const expected = await referenceVectors(encoder, requests);
    // A stopped process keeps what it accepted unanswered: its request stays pending, however fast the machine.
    const holding = async (placement: () => Promise<Float32Array[]>): Promise<void> => {
      held.child.kill('SIGSTOP');
      try {
        const answers = await placement();
        answers.forEach((answer, i) => expectVectorsClose(answer, expected[i], encoder.dimension, 1e-6, `request ${i}`));
      } finally {
        held.child.kill('SIGCONT');
      }
    };

    const leastPending = clientOf(endpointsOf([held, idle]), { balance: 'least-pending' });
    await holding(async () => {
      // both idle: the tie goes to the first in turn, which holds it
      const first = leastPending.encode(requests[0]);
      const rest: Float32Array[] = [];
      for (let i = 1; i < requests.length; i++) rest.push((await leastPending.encode(requests[i])).data);
      expect(leastPending.endpointStats().map((stats) => [stats.pending, stats.answered])).toEqual([
        [1, 0],
        [0, 6],
      ]);
      held.child.kill('SIGCONT');
      return [(await first).data, ...rest];
    });
    expect(leastPending.endpointStats().map((stats) => stats.answered)).toEqual([1, 6]);

    const roundRobin = clientOf(endpointsOf([held, idle]), { balance: 'round-robin' });
    await holding(async () => {
      const all = requests.map((texts) => roundRobin.encode(texts));
      // in turn regardless: the held server has four waiting
      await Promise.all(all.filter((_, i) => i % 2 === 1));
      expect(roundRobin.endpointStats().map((stats) => [stats.pending, stats.answered])).toEqual([
        [4, 0],
        [0, 3],
      ]);
      held.child.kill('SIGCONT');
      return (await Promise.all(all)).map((answer) => answer.data);
    });
    expect(roundRobin.endpointStats().map((stats) => stats.answered)).toEqual([4, 3]);
  });
});

describe('BertClient endpoints: arguments', () => {
  it.each([
    [{ endpoints: [] }, RangeError, 'Expected non-empty array of { socket } or { host, port } for endpoints but received an array of length 0 of type array'],
    [{ endpoints: '/tmp/a.sock' }, TypeError, 'Expected non-empty array of { socket } or { host, port } for endpoints but received "/tmp/a.sock" of type string'],
    [{ endpoints: [{ socket: '/tmp/a.sock' }, 'b'] }, TypeError, 'Expected object for endpoints[1] but received "b" of type string'],
    [{ endpoints: [{ host: '127.0.0.1' }] }, TypeError, 'Expected { socket } or { host, port } for endpoints[0] but received an object of type object'],
    [{ endpoints: [{ host: '127.0.0.1', port: 70000 }] }, RangeError, 'Expected integer from 1 to 65535 for endpoints[0].port but received 70000 of type number'],
    [{ endpoints: [{ host: '127.0.0.1', port: '5555' }] }, TypeError, 'Expected integer from 1 to 65535 for endpoints[0].port but received "5555" of type string'],
    [{ endpoints: [{ socket: '' }] }, RangeError, 'Expected non-empty string (a UNIX socket path) for endpoints[0].socket but received "" of type string'],
    [{ endpoints: [{ socket: '/tmp/a.sock', port: 1 }] }, TypeError, 'Expected { socket } or { host, port }, not both for endpoints[0] but received an object of type object'],
    [{ endpoints: [{ socket: '/tmp/a.sock' }, { socket: '/tmp/a.sock' }] }, RangeError, 'Expected distinct servers in endpoints but endpoints[1] is endpoints[0] again (unix:/tmp/a.sock)'],
    [{ endpoints: [{ socket: '/tmp/a.sock' }], socket: '/tmp/b.sock' }, TypeError, "Unknown option 'socket' for target. Known options: endpoints"],
    [{ endpoints: [{ sokcet: '/tmp/a.sock' }] }, TypeError, "Unknown option 'sokcet' for endpoints[0]. Did you mean 'socket'? Known options: socket, host, port"],
  ])('target %j: %s', (target, kind, message) => {
    expect(() => new BertClient(target as never)).toThrow(kind);
    expect(() => new BertClient(target as never)).toThrow(message);
  });

  it.each([
    [{ balance: 'random' }, RangeError, "Expected one of 'round-robin', 'least-pending' for balance but received \"random\" of type string"],
    [{ balance: 1 }, TypeError, "Expected one of 'round-robin', 'least-pending' for balance but received 1 of type number"],
    [{ downForMs: -1 }, RangeError, 'Expected non-negative integer for downForMs but received -1 of type number'],
    [{ downForMs: 1.5 }, TypeError, 'Expected non-negative integer for downForMs but received 1.5 of type number'],
    [{ downForMS: 10 }, TypeError, "Unknown option 'downForMS' for BertClient. Did you mean 'downForMs'?"],
    [{ balanse: 'round-robin' }, TypeError, "Unknown option 'balanse' for BertClient. Did you mean 'balance'?"],
  ])('options %j: %s', (options, kind, message) => {
    expect(() => new BertClient({ endpoints: [{ socket: '/tmp/a.sock' }] }, options as never)).toThrow(kind);
    expect(() => new BertClient({ endpoints: [{ socket: '/tmp/a.sock' }] }, options as never)).toThrow(message);
  });

  it('a single { socket } or { host, port } target is still accepted, and named the same way', () => {
    const single = new BertClient({ host: '::1', port: 5555 });
    expect(single.endpointStats()).toEqual([{ endpoint: 'http://[::1]:5555', pending: 0, sent: 0, answered: 0, failures: 0, down: false, lastFailure: null }]);
    single.close();
    expect(() => new BertClient({ socket: 3 } as never)).toThrow('Expected non-empty string (a UNIX socket path) for target.socket but received 3 of type number');
  });
});
