"""The pip-installed bert_embed client over several servers (``endpoints=``), one scenario per run
(see endpoints-python.test.ts, which starts the servers and checks every vector):

    python endpoints_client.py ARGS.json     # {"scenario": "kill_under_load" | "drain_503" | "all_down" | "down_for" | "round_robin" | "least_pending" | "validation", ...}

Prints one JSON object: the answers (base64 float32, one per request, in request order), the
client's per-server statistics, and what was raised.
"""
import base64
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time

import numpy as np

from bert_embed import BertClient, ConcurrentBertClient

with open(sys.argv[1]) as args_file:
    args = json.load(args_file)


def float32(array):
    return {'shape': list(array.shape), 'float32': base64.b64encode(np.ascontiguousarray(array, dtype='<f4').tobytes()).decode('ascii')}


def raised(call):
    started = time.monotonic()
    try:
        call()
    except Exception as error:
        return {'classes': [cls.__name__ for cls in type(error).__mro__], 'code': getattr(error, 'code', None), 'message': str(error), 'seconds': time.monotonic() - started}
    return {'classes': [], 'seconds': time.monotonic() - started}


def endpoints():
    # JSON has no tuples: [host, port] pairs become (host, port), the form the client takes
    return [tuple(endpoint) if isinstance(endpoint, list) else endpoint for endpoint in args['endpoints']]


def encoding(socket_path):
    """Whether the server has sentences outstanding (its GET /status): a request sent is being worked on."""
    connection = http.client.HTTPConnection('localhost', timeout=10)
    connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.sock.connect(socket_path)
    try:
        connection.request('GET', '/status')
        return json.loads(connection.getresponse().read())['outstandingSentences'] > 0
    finally:
        connection.close()


def refusing(socket_path):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(socket_path)
        return False
    except OSError:
        return True
    finally:
        probe.close()


def in_threads(count, work):
    """Runs work() in `count` threads; returns the errors they raised."""
    errors = []

    def run():
        try:
            work()
        except Exception as error:  # recorded, so that the test shows it
            errors.append('%s: %s' % (type(error).__name__, error))

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def in_background(call):
    """Starts call() in a thread; returns the Event set when it has returned or raised, and the outcome."""
    done = threading.Event()
    outcome = {}

    def run():
        try:
            outcome['value'] = call()
        except Exception as error:
            outcome['error'] = '%s: %s' % (type(error).__name__, error)
        finally:
            done.set()

    threading.Thread(target=run).start()
    return done, outcome


def until_first_server_taken(bc):
    """Waits until a request was given to the first server (pending there), so the next goes elsewhere."""
    deadline = time.monotonic() + 10
    while bc.status['endpoints'][0]['pending'] == 0 and time.monotonic() < deadline:
        time.sleep(0.001)


def kill_under_load():
    """Threads share one ConcurrentBertClient; one server is SIGKILLed once `kill_after` requests were answered."""
    requests = args['requests']
    bc = ConcurrentBertClient(max_concurrency=args['max_concurrency'], endpoints=endpoints())
    answers = [None] * len(requests)
    lock = threading.Lock()
    state = {'next': 0, 'answered': 0, 'at_kill': None}

    def work():
        while True:
            with lock:
                index = state['next']
                state['next'] += 1
            if index >= len(requests):
                return
            answers[index] = bc.encode(requests[index])
            with lock:
                state['answered'] += 1
                if state['answered'] == args['kill_after']:
                    state['at_kill'] = bc.status['endpoints']
                    os.kill(args['kill_pid'], signal.SIGKILL)

    started = time.monotonic()
    errors = in_threads(args['threads'], work)
    return {'answers': [None if answer is None else float32(answer) for answer in answers], 'errors': errors, 'at_kill': state['at_kill'],
            'after': bc.status['endpoints'], 'seconds': time.monotonic() - started}


def drain_503():
    """round_robin: a long request to the draining server, SIGTERM while the server works on it; the long
    one finishes in the drain, one request goes to the other server, and the next (the draining
    server's turn) goes on the long one's connection, gets 503, and moves."""
    bc = BertClient(endpoints=endpoints(), balance='round_robin', ignore_all_checks=True)
    long_done, long_outcome = in_background(lambda: bc.encode(args['long']).shape)
    deadline = time.monotonic() + 30
    while not encoding(args['draining_socket']) and time.monotonic() < deadline:
        time.sleep(0.002)
    held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    held.connect(args['draining_socket'])
    # a body that never ends keeps the drain open, so the server answers 503 rather than exiting
    held.sendall(b'POST /encode HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"texts"')
    os.kill(args['draining_pid'], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not refusing(args['draining_socket']) and time.monotonic() < deadline:
        time.sleep(0.01)
    long_in_flight_at_drain = not long_done.is_set()
    long_done.wait(120)
    try:
        bc.encode(['the other server in turn'])
        moved = bc.encode(args['moved'])
    finally:
        held.close()
    return {'long_in_flight_at_drain': long_in_flight_at_drain, 'long': long_outcome, 'moved': float32(moved), 'after': bc.status['endpoints']}


def all_down():
    return {
        'construct': raised(lambda: BertClient(endpoints=endpoints())),
        'encode_unchecked': raised(lambda: BertClient(endpoints=endpoints(), ignore_all_checks=True).encode(['hello'])),
    }


def down_for():
    """A dead server is left out for down_for_ms, then tried again."""
    bc = BertClient(endpoints=endpoints(), balance='round_robin', down_for_ms=500, ignore_all_checks=True)
    answers = [bc.encode(texts) for texts in args['requests'][:3]]
    while_down = bc.status['endpoints']
    time.sleep(0.7)
    answers.append(bc.encode(args['requests'][3]))
    return {'answers': [float32(answer) for answer in answers], 'while_down': while_down, 'after': bc.status['endpoints']}


def round_robin():
    requests = args['requests']
    bc = BertClient(endpoints=endpoints(), balance='round_robin', ignore_all_checks=True)
    answers = [None] * len(requests)
    pending = list(range(len(requests)))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not pending:
                    return
                index = pending.pop(0)
            answers[index] = bc.encode(requests[index])

    errors = in_threads(6, work)
    return {'answers': [float32(answer) for answer in answers], 'errors': errors, 'after': bc.status['endpoints']}


def least_pending():
    """The first server is stopped (SIGSTOP): the request it takes stays pending, and the next ones go to the idle one."""
    bc = BertClient(endpoints=endpoints(), balance='least_pending', ignore_all_checks=True)
    requests = args['requests']
    os.kill(args['held_pid'], signal.SIGSTOP)
    try:
        first_done, first = in_background(lambda: bc.encode(requests[0]))
        until_first_server_taken(bc)  # both idle: the first in turn takes it
        answers = [bc.encode(texts) for texts in requests[1:]]
        while_held = bc.status['endpoints']
    finally:
        os.kill(args['held_pid'], signal.SIGCONT)
    first_done.wait(120)
    if 'value' not in first:
        return {'first': first}
    return {'answers': [float32(answer) for answer in [first['value']] + answers], 'while_held': while_held, 'after': bc.status['endpoints']}


def validation():
    unchecked = {'ignore_all_checks': True}
    return {
        'not_a_list': raised(lambda: BertClient(endpoints='unix:/tmp/a.sock', **unchecked)),
        'empty': raised(lambda: BertClient(endpoints=[], **unchecked)),
        'bad_url': raised(lambda: BertClient(endpoints=['tcp://127.0.0.1:5555'], **unchecked)),
        'no_port': raised(lambda: BertClient(endpoints=['http://127.0.0.1'], **unchecked)),
        'bad_type': raised(lambda: BertClient(endpoints=[5555], **unchecked)),
        'bad_tuple_port': raised(lambda: BertClient(endpoints=[('127.0.0.1', 0)], **unchecked)),
        'duplicate': raised(lambda: BertClient(endpoints=['unix:/tmp/a.sock', 'unix:/tmp/a.sock'], **unchecked)),
        'with_socket': raised(lambda: BertClient(endpoints=['unix:/tmp/a.sock'], socket='/tmp/b.sock', **unchecked)),
        'balance': raised(lambda: BertClient(endpoints=['unix:/tmp/a.sock'], balance='least-pending', **unchecked)),
        'balance_type': raised(lambda: BertClient(endpoints=['unix:/tmp/a.sock'], balance=None, **unchecked)),
        'down_for_ms': raised(lambda: BertClient(endpoints=['unix:/tmp/a.sock'], down_for_ms=-1, **unchecked)),
        'down_for_ms_type': raised(lambda: BertClient(endpoints=['unix:/tmp/a.sock'], down_for_ms='5s', **unchecked)),
        'misspelled': raised(lambda: BertClient(endpoint=['unix:/tmp/a.sock'], **unchecked)),
        'accepted': BertClient(endpoints=['unix:/tmp/a.sock', 'http://127.0.0.1:5555', ('::1', 5556), 'http://[::1]:5557'], **unchecked).endpoints,
    }


SCENARIOS = {f.__name__: f for f in (kill_under_load, drain_503, all_down, down_for, round_robin, least_pending, validation)}
print(json.dumps(SCENARIOS[args['scenario']]()))
