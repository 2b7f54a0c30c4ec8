"""bert-as-service's ``BertClient`` and ``ConcurrentBertClient``, for a ``bert-embed serve`` server.

Code written for ``bert_serving.client`` runs with only its import line changed::

    from bert_embed.client import BertClient
    bc = BertClient(port=5555)              # or BertClient(socket='/run/bert.sock')
    bc.encode(['First do it', 'then do it right', 'then do it better'])

Or over several servers, each request to one of them (``balance``), moved to another when one is
down or draining::

    bc = BertClient(endpoints=['unix:/run/bert-1.sock', 'http://10.0.0.7:5555', ('10.0.0.8', 5555)])

The client speaks HTTP to the server's POST /encode (vectors come back as raw float32) and
GET /status/server; ``port_out``, ``identity`` and ``check_version`` are accepted and have no effect.
"""
import json
import os
import queue
import threading
import time
import uuid
import warnings
import weakref
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import __version__
from ._endpoints import BALANCES, EndpointPool, parse_endpoints
from ._validation import check_port, check_positive_integer, check_texts, check_timeout, check_tokenized_texts, expected
from .errors import BertEmbedError

__all__ = ['BertClient', 'ConcurrentBertClient', 'Response']

# A connection that cannot be made within this many seconds fails (or within `timeout`, when shorter):
# bert-as-service's client waited forever for a server that was not there.
_CONNECT_TIMEOUT_S = 5.0
# Non-blocking requests in flight at once, and encode_async's batches ahead of the one it yields.
_ASYNC_IN_FLIGHT = 8
_ENCODE_OPTIONS = ('is_tokenized', 'show_tokens')
# How long a server that failed a request (refused, lost the connection, answered 503) is left out.
_DOWN_FOR_MS = 5000


class Response(namedtuple('Response', ['id', 'embedding', 'tokens'])):
    """One answered request, as bert-as-service's ``fetch()`` yields it: ``(id, embedding, tokens)``,
    ``tokens`` being ``''`` unless asked for. ``shape`` and ``content`` are the embedding's, as
    bert-as-service's README (``j.shape``) and examples (``v.content``) read them."""
    __slots__ = ()

    @property
    def shape(self):
        return np.shape(self.embedding)

    @property
    def content(self):
        return self.embedding


class BertClient(object):
    """A client of ``bert-embed serve``, with bert-as-service's constructor and methods, for one server
    (``ip``/``port`` or ``socket``) or several (``endpoints``).

    **One client may be shared by any number of threads** (bert-as-service's could not: sharing
    one raised ZMQError or mixed answers up). Each request goes on a connection of its own, taken
    from a pool of kept-alive connections; answers never cross between threads.

    :param ip: the server's host (TCP)
    :param port: the server's TCP port (``bert-embed serve --port``)
    :param port_out: accepted for bert-as-service's code; HTTP answers on the same connection
    :param output_fmt: ``'ndarray'`` (float32) or ``'list'`` (lists of floats)
    :param show_server_config: print the server's configuration when connected
    :param identity: accepted and ignored (an HTTP client needs none); shown in ``status``
    :param check_version: accepted and ignored: the HTTP API, not the version, is the contract
    :param check_length: warn when a sentence has more whitespace-separated words than the server's ``max_seq_len``
    :param check_token_info: learn at construction whether the server shows tokens (``--show-tokens-to-client``);
        when it does not, ``encode(show_tokens=True)`` warns and returns the embedding alone, as bert-as-service.
        Without the check, the server's refusal raises ``ServerError`` (code ``ERR_TOKENS_NOT_ALLOWED``)
    :param ignore_all_checks: do not contact the server at construction
    :param timeout: milliseconds to wait for an answer, -1 to wait forever; past it, ``ServerTimeoutError``
        (a ``TimeoutError``). As in bert-as-service, non-blocking requests wait forever.
    :param socket: the server's UNIX socket (``bert-embed serve --socket``), instead of ``ip``/``port``
    :param api_key: the server's ``--api-key`` (default: the ``BERT_EMBED_API_KEY`` environment variable)
    :param endpoints: several servers instead of ``ip``/``port``/``socket``, each ``'unix:/path/to/socket'``,
        ``'http://host:port'`` or ``(host, port)``. Each has its own kept-alive connections; each request
        goes to one of them (``balance``). A request whose server refused or lost the connection before
        the whole answer arrived, or answered 503 (loading, draining), goes to another server, and that
        server is left out for ``down_for_ms``; nothing else is resent (a timeout may mean the request
        still runs there). When every server failed it, ``ServerConnectionError`` names each and why.
        The servers should run the same model and options: ``server_status`` is the one the balance
        picks, and the construction checks read it.
    :param balance: ``'least_pending'`` (the server with fewest requests in flight, ties in turn) or
        ``'round_robin'``
    :param down_for_ms: how long a server that failed a request is left out (it is still tried when every
        other server failed too), in milliseconds

    With no server listening, construction (or, with ``ignore_all_checks``, the first request)
    raises ``ServerConnectionError`` at once rather than waiting.
    """

    _max_connections = None

    def __init__(self, ip='localhost', port=5555, port_out=5556, output_fmt='ndarray', show_server_config=False,
                 identity=None, check_version=True, check_length=True, check_token_info=True, ignore_all_checks=False,
                 timeout=-1, socket=None, api_key=None, endpoints=None, balance='least_pending', down_for_ms=_DOWN_FOR_MS):
        if output_fmt not in ('ndarray', 'list'):
            raise ValueError(expected('output_fmt', "'ndarray' or 'list'", output_fmt))
        if socket is not None and not isinstance(socket, (str, os.PathLike)):
            raise TypeError(expected('socket', 'the path of a UNIX socket', socket))
        if not isinstance(ip, str) or not ip:
            raise TypeError(expected('ip', 'a host name or address', ip))
        if not isinstance(balance, str):
            raise TypeError(expected('balance', ' or '.join(repr(name) for name in BALANCES), balance))
        if balance not in BALANCES:
            raise ValueError(expected('balance', ' or '.join(repr(name) for name in BALANCES), balance))
        if isinstance(down_for_ms, bool) or not isinstance(down_for_ms, (int, float)):
            raise TypeError(expected('down_for_ms', 'milliseconds >= 0', down_for_ms))
        if not down_for_ms >= 0:
            raise ValueError(expected('down_for_ms', 'milliseconds >= 0', down_for_ms))
        self.ip = ip
        self.port = check_port('port', port)
        self.port_out = port_out
        self.socket = None if socket is None else os.fspath(socket)
        if endpoints is None:
            addresses = [(self.ip, self.port, self.socket)]
        else:
            given = ['%s=%r' % (name, value) for name, value, default in (('ip', ip, 'localhost'), ('port', port, 5555), ('socket', socket, None)) if value != default]
            if given:
                raise TypeError('Expected either endpoints or ip/port/socket but received endpoints and %s' % ', '.join(given))
            addresses = parse_endpoints(endpoints)
            self.ip = self.port = self.socket = None
        self.balance = balance
        self.down_for_ms = down_for_ms
        self.timeout = check_timeout(timeout)
        self.output_fmt = output_fmt
        self.identity = identity if identity is not None else str(uuid.uuid4())
        if api_key is None:
            api_key = os.environ.get('BERT_EMBED_API_KEY') or None
        connect_timeout_s = _CONNECT_TIMEOUT_S if timeout == -1 else min(_CONNECT_TIMEOUT_S, timeout / 1000.0)
        self._transport = EndpointPool(addresses, connect_timeout_s, api_key, balance, down_for_ms, self._max_connections)
        self.endpoints = [stats['endpoint'] for stats in self._transport.stats()]
        # a client dropped without close() still closes its kept-alive connections
        weakref.finalize(self, self._transport.close)
        self._lock = threading.Lock()
        self._request_count = 0
        # requests whose result the caller has not received yet (bert-as-service's pending_request)
        self._pending = set()
        # non-blocking requests not yet fetched, by id, and the ids of those answered, in answer order
        self._unfetched = {}
        self._answered = queue.Queue()
        self._executor = None
        self.length_limit = 0
        # None: not asked at construction; the server decides on each request
        self.token_info_available = None

        if not ignore_all_checks and (check_version or show_server_config or check_length or check_token_info):
            config = self.server_config
            if check_length:
                self.length_limit = None if config.get('max_seq_len') is None else int(config['max_seq_len'])
            if check_token_info:
                self.token_info_available = bool(config.get('show_tokens_to_client'))
            if show_server_config:
                self._print_dict(config, 'server config:')

    # -- the server's state -------------------------------------------------------------------

    @property
    def server_status(self):
        """The server's configuration and its request statistic (GET /status/server), a dict; with
        ``endpoints``, the server's that the balance picks."""
        self._count_request()
        return self._transport.request('GET', '/status/server', timeout_s=self._timeout_s(True)).json()

    @property
    def server_config(self):
        """The server's configuration: ``server_status`` without the statistic, as bert-as-service's."""
        status = self.server_status
        status.pop('statistic', None)
        return status

    @property
    def status(self):
        """This client's state, as bert-as-service's ``BertClient.status``, and ``endpoints``: each server's
        share of the requests (``endpoint``, ``pending``, ``sent``, ``answered``, ``failures``, ``down``,
        ``last_failure``)."""
        with self._lock:
            pending = set(self._pending)
            count = self._request_count
        return {
            'identity': self.identity,
            'num_request': count,
            'num_pending_request': len(pending),
            'pending_request': pending,
            'output_fmt': self.output_fmt,
            'port': self.port,
            'port_out': self.port_out,
            'server_ip': self.ip,
            'socket': self.socket,
            'client_version': __version__,
            'timeout': self.timeout,
            'endpoints': self._transport.stats(),
        }

    # -- encoding ---------------------------------------------------------------------------

    def encode(self, texts, blocking=True, is_tokenized=False, show_tokens=False):
        """Encodes a list of sentences ('A ||| B' is a pair), or of token lists with ``is_tokenized``.

        :return: an ndarray of float32, one row per sentence (lists with ``output_fmt='list'``);
            ``(embedding, tokens)`` with ``show_tokens``; None with ``blocking=False``, the result then
            coming from ``fetch()`` or ``fetch_all()``
        """
        self._check_encode(texts, is_tokenized)
        ask_tokens = bool(show_tokens) and self.token_info_available is not False
        if show_tokens and not ask_tokens:
            warnings.warn('"show_tokens=True", but the server does not show tokens to clients: start it with '
                          '"bert-embed serve --show-tokens-to-client ...", or use "encode(show_tokens=False)"')
        request_id = self._count_request(pending=True)
        if not blocking:
            future = self._executor_for_async().submit(self._encode_request, request_id, texts, is_tokenized, ask_tokens, None)
            with self._lock:
                self._unfetched[request_id] = future
            future.add_done_callback(lambda _: self._answered.put(request_id))
            return None
        try:
            embedding, tokens = self._encode_request(request_id, texts, is_tokenized, ask_tokens, self._timeout_s(True))
        finally:
            self._settle(request_id)
        return (embedding, tokens) if ask_tokens else embedding

    def fetch(self, delay=.0):
        """Yields a ``Response(id, embedding, tokens)`` for each non-blocking ``encode`` as it is
        answered (not in sending order: ``fetch_all(sort=True)`` restores it), until none is left."""
        time.sleep(delay)
        while True:
            with self._lock:
                if not self._unfetched:
                    return
            try:
                request_id = self._answered.get(timeout=0.05)
            except queue.Empty:
                continue
            with self._lock:
                future = self._unfetched.pop(request_id, None)
            if future is None:
                continue
            self._settle(request_id)
            embedding, tokens = future.result()
            yield Response(request_id, embedding, tokens)

    def fetch_all(self, sort=True, concat=False):
        """Every non-blocking ``encode``'s embedding, in sending order with ``sort``, as one array (or
        list) with ``concat``; None when none is pending."""
        with self._lock:
            if not self._unfetched:
                return None
        responses = list(self.fetch())
        if sort:
            responses.sort(key=lambda response: response.id)
        embeddings = [response.embedding for response in responses]
        if concat:
            if self.output_fmt == 'ndarray':
                return np.concatenate(embeddings, axis=0)
            return [row for embedding in embeddings for row in embedding]
        return embeddings

    def encode_async(self, batch_generator, max_num_batch=None, delay=0.1, **kwargs):
        """Encodes the batches a generator yields (at most ``max_num_batch``), several in flight at
        once, and yields a ``Response(id, embedding, tokens)`` for each, in the generator's order.
        ``kwargs``: ``is_tokenized``, ``show_tokens`` as for ``encode``. ``delay`` is accepted for
        bert-as-service's code; nothing here needs it."""
        unknown = sorted(set(kwargs) - set(_ENCODE_OPTIONS))
        if unknown:
            raise TypeError('Unknown option %r for encode_async; expected one of %s' % (unknown[0], ', '.join(_ENCODE_OPTIONS)))
        if max_num_batch is not None:
            check_positive_integer('max_num_batch', max_num_batch)
        is_tokenized = bool(kwargs.get('is_tokenized', False))
        ask_tokens = bool(kwargs.get('show_tokens', False)) and self.token_info_available is not False
        in_order = queue.Queue()
        window = threading.Semaphore(_ASYNC_IN_FLIGHT)
        stopped = threading.Event()
        end = object()

        def feed():
            # batches are read and sent here, so that a slow generator does not hold up the answers
            try:
                for count, texts in enumerate(batch_generator, 1):
                    while not window.acquire(timeout=0.1):
                        if stopped.is_set():
                            return
                    if stopped.is_set():
                        return
                    self._check_encode(texts, is_tokenized)
                    request_id = self._count_request(pending=True)
                    in_order.put((request_id, self._executor_for_async().submit(self._encode_request, request_id, texts, is_tokenized, ask_tokens, None)))
                    if max_num_batch is not None and count >= max_num_batch:
                        break
            except BaseException as error:  # the generator's or a batch's error, raised where results are read
                in_order.put(error)
            finally:
                in_order.put(end)

        def results():
            try:
                while True:
                    item = in_order.get()
                    if item is end:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    request_id, future = item
                    try:
                        embedding, tokens = future.result()
                    finally:
                        self._settle(request_id)
                        window.release()
                    yield Response(request_id, embedding, tokens)
            finally:
                # the caller stopped early: what was sent will never be received
                stopped.set()
                while True:
                    try:
                        item = in_order.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, tuple):
                        self._settle(item[0])

        threading.Thread(target=feed, name='bert_embed.encode_async', daemon=True).start()
        return results()

    # -- lifetime -----------------------------------------------------------------------------

    def close(self):
        """Closes the kept-alive connections; requests still in flight fail."""
        self._transport.close()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _check_encode(self, texts, is_tokenized):
        if is_tokenized:
            check_tokenized_texts(texts)
        else:
            check_texts(texts)
        if self.length_limit is None:
            warnings.warn('the server puts no limit on "max_seq_len": each batch is as long as its longest sentence')
        elif self.length_limit and not all(len(text if is_tokenized else text.split()) <= self.length_limit for text in texts):
            warnings.warn('some of your sentences have more tokens than "max_seq_len=%d" set on the server, so their '
                          'embeddings are of a truncated sentence; use "BertClient(check_length=False)" to disable this '
                          'check, or serve with a larger "--max-seq-len"' % self.length_limit)

    def _encode_request(self, request_id, texts, is_tokenized, show_tokens, timeout_s):
        body = json.dumps({'id': request_id, 'texts': texts, 'is_tokenized': bool(is_tokenized), 'show_tokens': show_tokens}).encode('utf-8')
        if show_tokens:
            # tokens travel in JSON only
            parsed = self._transport.request('POST', '/encode', body, 'application/json', timeout_s).json()
            embedding = _float32_rows(parsed, len(texts))
            tokens = parsed.get('tokens') if isinstance(parsed, dict) else None
            if not isinstance(tokens, list):
                raise BertEmbedError('the server answered show_tokens without "tokens"', 'ERR_SERVER')
        else:
            embedding = _float32_from_bytes(self._transport.request('POST', '/encode', body, 'application/octet-stream', timeout_s), len(texts))
            tokens = ''
        return (embedding.tolist() if self.output_fmt == 'list' else embedding), tokens

    def _timeout_s(self, blocking):
        return None if self.timeout == -1 or not blocking else self.timeout / 1000.0

    def _count_request(self, pending=False):
        with self._lock:
            self._request_count += 1
            if pending:
                self._pending.add(self._request_count)
            return self._request_count

    def _settle(self, request_id):
        with self._lock:
            self._pending.discard(request_id)

    def _executor_for_async(self):
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._max_connections or _ASYNC_IN_FLIGHT, thread_name_prefix='bert_embed')
            return self._executor

    @staticmethod
    def _print_dict(values, title=None):
        if title:
            print(title)
        for key, value in values.items():
            print('%30s\t=\t%-30s' % (key, value))


class ConcurrentBertClient(BertClient):
    """bert-as-service's ConcurrentBertClient: a BertClient for many threads, with at most
    ``max_concurrency`` requests (connections) at the server at once, or over all its ``endpoints``
    together. Further calls wait for a free one (bert-as-service's raised RuntimeError). Every
    BertClient is already safe to share between threads; this one also bounds how many connections
    it opens."""

    def __init__(self, max_concurrency=10, **kwargs):
        self._max_connections = check_positive_integer('max_concurrency', max_concurrency)
        self.max_concurrency = max_concurrency
        super().__init__(**kwargs)


def _float32_from_bytes(answer, rows):
    """The raw little-endian float32 of an `Accept: application/octet-stream` answer, shaped by X-Embedding-Shape."""
    header = answer.headers.get('X-Embedding-Shape', '')
    try:
        shape = tuple(int(n) for n in header.split(','))
    except ValueError:
        raise BertEmbedError('the server answered a bad X-Embedding-Shape %r' % header, 'ERR_SERVER')
    if not shape or shape[0] != rows or any(n < 0 for n in shape) or int(np.prod(shape)) * 4 != len(answer.body):
        raise BertEmbedError('the server answered %d bytes of float32 for X-Embedding-Shape %r and %d sentences' % (len(answer.body), header, rows), 'ERR_SERVER')
    return np.frombuffer(answer.body, dtype='<f4').astype(np.float32, copy=True).reshape(shape)


def _float32_rows(parsed, rows):
    results = parsed.get('results') if isinstance(parsed, dict) else None
    try:
        embedding = np.asarray(results, dtype=np.float32)
    except (TypeError, ValueError):
        embedding = None
    if embedding is None or embedding.ndim < 2 or embedding.shape[0] != rows:
        raise BertEmbedError('the server answered "results" that are not %d rows of numbers' % rows, 'ERR_SERVER')
    return embedding
