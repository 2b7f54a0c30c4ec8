"""A Python client of ``bert-embed serve``: bert-as-service's ``BertClient``, over HTTP."""
__version__ = '0.1.0'

from .client import BertClient, ConcurrentBertClient, Response  # noqa: E402
from .errors import BertEmbedError, ServerConnectionError, ServerError, ServerTimeoutError  # noqa: E402

__all__ = ['__version__', 'BertClient', 'ConcurrentBertClient', 'Response', 'BertEmbedError', 'ServerError', 'ServerConnectionError', 'ServerTimeoutError']
