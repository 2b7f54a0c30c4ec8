"""HTTP/1.1 to one bert-embed server over TCP or a UNIX socket, on kept-alive connections.

Safe to share between threads: each request takes an idle connection (or opens a new one) and puts
it back once its answer has been read in full, so no two requests ever share a connection.
"""
import errno
import http.client
import json
import socket as _socket
import threading

from .errors import BertEmbedError, ServerConnectionError, ServerError, ServerTimeoutError

# Connections kept open between requests; more may be open while requests are in flight.
_IDLE_CONNECTIONS = 16
# Errors of a kept-alive connection the server closed while it sat idle: the request is sent again
# once, on a fresh connection.
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class _UnixHTTPConnection(http.client.HTTPConnection):
    """http.client's connection, over a UNIX socket instead of TCP."""

    def __init__(self, socket_path, timeout):
        super().__init__('localhost', timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Answer(object):
    __slots__ = ('status', 'headers', 'body')

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as error:
            raise BertEmbedError('the server answered HTTP %d with a body that is not JSON (%s)' % (self.status, error), 'ERR_SERVER')


class Transport(object):
    def __init__(self, ip, port, socket_path, connect_timeout_s, api_key=None):
        self.where = 'unix:%s' % socket_path if socket_path is not None else 'http://%s:%d' % ('[%s]' % ip if ':' in ip else ip, port)
        self._ip = ip
        self._port = port
        self._socket_path = socket_path
        self._connect_timeout_s = connect_timeout_s
        self._headers = {} if api_key is None else {'Authorization': 'Bearer %s' % api_key}
        self._idle = []
        self._lock = threading.Lock()
        self._closed = False

    def request(self, method, path, body=None, accept='application/json', timeout_s=None):
        """One request; returns an Answer with a 2xx status, raises ServerError for any other, and
        ServerConnectionError (with a short ``reason``) when no whole answer arrived."""
        answer = self._request_with_retry(method, path, body, accept, timeout_s)
        if not 200 <= answer.status < 300:
            raise _server_error(answer)
        return answer

    def close(self):
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _request_with_retry(self, method, path, body, accept, timeout_s):
        connection, reused = self._take()
        try:
            return self._exchange(connection, method, path, body, accept, timeout_s)
        except _STALE_CONNECTION_ERRORS as error:
            if not reused:
                raise _connection_error('the server at %s closed the connection without answering %s %s' % (self.where, method, path), error)
        connection = self._open()
        try:
            return self._exchange(connection, method, path, body, accept, timeout_s)
        except _STALE_CONNECTION_ERRORS as error:
            raise _connection_error('the server at %s closed the connection without answering %s %s' % (self.where, method, path), error)

    def _exchange(self, connection, method, path, body, accept, timeout_s):
        """Sends and reads one request; the connection goes back to the idle list only when whole."""
        finished = False
        try:
            if connection.sock is None:
                self._connect(connection)
            connection.sock.settimeout(timeout_s)
            headers = dict(self._headers, Accept=accept)
            if body is not None:
                headers['Content-Type'] = 'application/json'
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
            finished = not response.will_close
            return answer
        except BertEmbedError:
            raise
        except _socket.timeout:
            raise ServerTimeoutError(
                'no response from the server at %s within timeout=%d ms: is the server still online, or is the '
                'request too large for that timeout?' % (self.where, round(timeout_s * 1000)))
        except _STALE_CONNECTION_ERRORS:
            raise
        except (OSError, http.client.HTTPException) as error:
            raise _connection_error('the connection to the server at %s failed during %s %s (%s)' % (self.where, method, path, error), error)
        finally:
            if finished:
                self._give_back(connection)
            else:
                connection.close()

    def _connect(self, connection):
        try:
            connection.connect()
        except _socket.timeout as error:
            raise _connection_error('the server at %s did not accept a connection within %g s' % (self.where, self._connect_timeout_s), error)
        except OSError as error:
            reason = error.strerror or str(error)
            raise _connection_error('cannot connect to a bert-embed server at %s (%s): is `bert-embed serve` running there?' % (self.where, reason), error)

    def _open(self):
        if self._socket_path is not None:
            return _UnixHTTPConnection(self._socket_path, self._connect_timeout_s)
        return http.client.HTTPConnection(self._ip, self._port, timeout=self._connect_timeout_s)

    def _take(self):
        with self._lock:
            if self._closed:
                raise BertEmbedError('the client is closed', 'ERR_CLOSED')
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _give_back(self, connection):
        with self._lock:
            if not self._closed and len(self._idle) < _IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()


def _connection_error(message, cause):
    """ServerConnectionError, with ``reason``: the errno's name (``ECONNREFUSED``), else the failure's class."""
    error = ServerConnectionError(message)
    error.reason = errno.errorcode.get(getattr(cause, 'errno', None)) or type(cause).__name__
    return error


def _server_error(answer):
    try:
        parsed = json.loads(answer.body.decode('utf-8'))
        message, code = parsed['error'], parsed['code']
        if isinstance(message, str) and isinstance(code, str):
            return ServerError(message, code, answer.status)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        pass
    text = answer.body[:200].decode('utf-8', 'replace')
    return ServerError('the server answered HTTP %d without a JSON error: %r' % (answer.status, text), 'ERR_SERVER', answer.status)
