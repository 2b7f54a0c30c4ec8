"""Several bert-embed servers behind one client: requests spread over them, and moved to another
server when one cannot answer.

Every request of the client is pure (the same texts give the same vectors; nothing is stored), so
one that a server cannot have answered is safe to send elsewhere: a connection refused, or lost
before the whole answer arrived, or a 503 (the model still loading, the server draining). That
server is then left out for ``down_for_ms``. Nothing else is resent: an answered error would be
answered again, and a timeout may mean the request is still running there, so resending it could
double the load on a server that is only slow.
"""
import re
import threading
import time

from ._transport import Transport
from ._validation import check_port, expected
from .errors import ServerConnectionError, ServerError

BALANCES = ('least_pending', 'round_robin')
_SERVICE_UNAVAILABLE = 503
_ENDPOINT_FORMS = "'unix:/path/to/socket', 'http://host:port' or a (host, port) tuple"
_HTTP_URL = re.compile(r'^http://(\[[^\]]+\]|[^:/\[\]]+):([0-9]+)/?$')


def parse_endpoints(endpoints):
    """The servers of ``endpoints=``, as ``(ip, port, socket_path)``, checked and each named once."""
    if isinstance(endpoints, (str, bytes, dict)) or not isinstance(endpoints, (list, tuple)):
        raise TypeError(expected('endpoints', 'a non-empty list of %s' % _ENDPOINT_FORMS, endpoints))
    if not endpoints:
        raise ValueError(expected('endpoints', 'a non-empty list of %s' % _ENDPOINT_FORMS, endpoints))
    addresses = [_parse_endpoint('endpoints[%d]' % i, endpoint) for i, endpoint in enumerate(endpoints)]
    seen = {}
    for i, address in enumerate(addresses):
        name = _name(*address)
        if name in seen:
            # two entries for one server would give it two pools of connections and two down-timers
            raise ValueError('Expected distinct servers in endpoints but endpoints[%d] is endpoints[%d] again (%s)' % (i, seen[name], name))
        seen[name] = i
    return addresses


def _parse_endpoint(field, endpoint):
    if isinstance(endpoint, tuple):
        if len(endpoint) != 2 or not isinstance(endpoint[0], str) or not endpoint[0]:
            raise TypeError(expected(field, 'a (host, port) tuple', endpoint))
        return endpoint[0], check_port('%s port' % field, endpoint[1]), None
    if not isinstance(endpoint, str):
        raise TypeError(expected(field, _ENDPOINT_FORMS, endpoint))
    if endpoint.startswith('unix:') and len(endpoint) > len('unix:'):
        return None, None, endpoint[len('unix:'):]
    url = _HTTP_URL.match(endpoint)
    if url is None or not 1 <= int(url.group(2)) <= 65535:
        raise ValueError(expected(field, _ENDPOINT_FORMS, endpoint))
    return url.group(1).strip('[]'), int(url.group(2)), None


def _name(ip, port, socket_path):
    return 'unix:%s' % socket_path if socket_path is not None else 'http://%s:%d' % ('[%s]' % ip if ':' in ip else ip, port)


class _Endpoint(object):
    def __init__(self, transport):
        self.transport = transport
        self.pending = 0
        self.sent = 0
        self.answered = 0
        self.failures = 0
        self.down_until = 0.0
        self.last_failure = None


class EndpointPool(object):
    """The servers of one client, each with its own kept-alive connections (one shared pool would let
    a Kubernetes service pin the client to whichever pod its connections reached). ``request`` has
    Transport's signature."""

    def __init__(self, addresses, connect_timeout_s, api_key, balance, down_for_ms, max_connections=None):
        self._endpoints = [_Endpoint(Transport(ip, port, socket_path, connect_timeout_s, api_key)) for ip, port, socket_path in addresses]
        self._balance = balance
        self._down_for_s = down_for_ms / 1000.0
        self._lock = threading.Lock()
        # where the next round-robin scan starts: one past the last server picked
        self._cursor = 0
        # ConcurrentBertClient's max_concurrency, over all servers: requests beyond it wait for a slot
        self._slots = threading.BoundedSemaphore(max_connections) if max_connections else None

    @property
    def where(self):
        return ', '.join(endpoint.transport.where for endpoint in self._endpoints)

    def request(self, method, path, body=None, accept='application/json', timeout_s=None):
        if self._slots is not None:
            self._slots.acquire()
        try:
            return self._request_with_failover(method, path, body, accept, timeout_s)
        finally:
            if self._slots is not None:
                self._slots.release()

    def stats(self):
        """Each server's share of the requests, in the order given: ``endpoint`` (its name), ``pending``
        (in flight now), ``sent``, ``answered`` (any answer but 503, errors included), ``failures``
        (refused, connection lost, 503: each went on to another server, if one was left), ``down``
        (left out for now) and ``last_failure`` (e.g. ``'ECONNREFUSED'``, ``'HTTP 503 ERR_SHUTTING_DOWN'``)."""
        now = time.monotonic()
        with self._lock:
            return [{'endpoint': endpoint.transport.where, 'pending': endpoint.pending, 'sent': endpoint.sent, 'answered': endpoint.answered,
                     'failures': endpoint.failures, 'down': endpoint.down_until > now, 'last_failure': endpoint.last_failure}
                    for endpoint in self._endpoints]

    def close(self):
        for endpoint in self._endpoints:
            endpoint.transport.close()

    def _request_with_failover(self, method, path, body, accept, timeout_s):
        failures = []
        while True:
            endpoint = self._take([endpoint for endpoint, _, _ in failures])
            if endpoint is None:
                raise self._no_server_answered(failures)
            try:
                answer = endpoint.transport.request(method, path, body, accept, timeout_s)
            except ServerError as error:
                if error.status != _SERVICE_UNAVAILABLE:
                    self._settle(endpoint, answered=True)
                    raise
                failure = (endpoint, error, 'HTTP %d %s' % (error.status, error.code))
            except ServerConnectionError as error:
                failure = (endpoint, error, getattr(error, 'reason', 'unreachable'))
            except BaseException:
                self._settle(endpoint, answered=False)
                raise
            else:
                self._settle(endpoint, answered=True)
                return answer
            self._settle(endpoint, answered=False, down_because=failure[2])
            failures.append(failure)

    def _take(self, tried):
        """The server for a request's next attempt, never one it has tried: among those up, the next in
        turn (round_robin) or the one with fewest requests in flight, ties in turn (least_pending);
        when all left are down, the one back soonest, so that a request fails only after every server did."""
        now = time.monotonic()
        with self._lock:
            count = len(self._endpoints)
            in_turn = [self._endpoints[(self._cursor + i) % count] for i in range(count)]
            in_turn = [endpoint for endpoint in in_turn if endpoint not in tried]
            if not in_turn:
                return None
            up = [endpoint for endpoint in in_turn if endpoint.down_until <= now]
            if not up:
                chosen = min(in_turn, key=lambda endpoint: endpoint.down_until)
            elif self._balance == 'round_robin':
                chosen = up[0]
            else:
                chosen = min(up, key=lambda endpoint: endpoint.pending)  # min keeps the first of equals: in turn
            self._cursor = (self._endpoints.index(chosen) + 1) % count
            chosen.pending += 1
            chosen.sent += 1
            return chosen

    def _settle(self, endpoint, answered, down_because=None):
        with self._lock:
            endpoint.pending -= 1
            if answered:
                endpoint.answered += 1
            if down_because is not None:
                endpoint.failures += 1
                endpoint.last_failure = down_because
                endpoint.down_until = time.monotonic() + self._down_for_s

    def _no_server_answered(self, failures):
        """With one server, its own error, as before there were several; else one naming each and why it failed."""
        if len(self._endpoints) == 1:
            return failures[0][1]
        tried = ', '.join('%s (%s)' % (endpoint.transport.where, reason) for endpoint, _, reason in failures)
        error = ServerConnectionError('no server could answer; tried %s' % tried)
        error.__cause__ = failures[-1][1]
        return error
