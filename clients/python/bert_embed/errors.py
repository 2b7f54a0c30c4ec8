"""The client's exceptions. Each carries ``code``: the server's error code (``ERR_VALIDATION``,
``ERR_TOKENS_NOT_ALLOWED``, ... as in bert-embed's README "Errors" table) or the client's own
``ERR_CONNECTION``, ``ERR_TIMEOUT``, ``ERR_SERVER``."""


class BertEmbedError(Exception):
    """Base class: ``code`` names the failure, ``str(error)`` explains it."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class ServerError(BertEmbedError):
    """The server answered an error: ``status`` is the HTTP status, ``code`` and the message are
    the server's JSON ``{"error": message, "code": code}``."""

    def __init__(self, message, code, status):
        super().__init__('%s (HTTP %d %s)' % (message, status, code), code)
        self.status = status
        self.server_message = message


class ServerConnectionError(BertEmbedError, ConnectionError):
    """No server listens where the client was pointed, or the connection broke."""

    def __init__(self, message):
        super().__init__(message, 'ERR_CONNECTION')


class ServerTimeoutError(BertEmbedError, TimeoutError):
    """No answer within the client's ``timeout`` (a TimeoutError, as bert-as-service raises)."""

    def __init__(self, message):
        super().__init__(message, 'ERR_TIMEOUT')
