"""Embeddings in a Ray Data pipeline: ``BertEmbedder``, a callable class for ``Dataset.map_batches``::

    from ray.data import ActorPoolStrategy
    from bert_embed.ray import BertEmbedder

    ds = ds.map_batches(BertEmbedder, fn_constructor_kwargs={'model': '/models/all-MiniLM-L6-v2', 'column': 'text'},
                        batch_size=64, batch_format='numpy', compute=ActorPoolStrategy(size=4))

Each actor runs its own ``bert-embed serve`` on a private UNIX socket (threads: the actor's CPUs;
devices: its GPUs), or attaches to a running server given as ``socket=``. Ray is needed here only:
``import bert_embed`` does not import it.
"""
import os
import sys
import weakref

import numpy as np
import ray

from ._server_process import ServerProcess, ServerStartError
from ._validation import expected
from .client import BertClient

__all__ = ['BertEmbedder', 'ServerStartError']

_POOLING = ('NONE', 'REDUCE_MEAN', 'REDUCE_MAX', 'REDUCE_MEAN_MAX', 'CLS_TOKEN', 'FIRST_TOKEN', 'SEP_TOKEN', 'LAST_TOKEN')
_DTYPES = ('float32', 'float16', 'bfloat16', 'int8')
# The server's --max-inputs is 4096 and its body limit 16 MiB: a larger Ray batch goes in several requests.
_REQUEST_ROWS = 512
_MODEL_DEFAULT = object()
# the options that become `bert-embed serve` flags, and their defaults (no flag: the model's own setting)
_SERVER_DEFAULTS = dict(max_seq_len=_MODEL_DEFAULT, pooling=None, normalize=None, dtype=None, max_batch_size=None)


class BertEmbedder(object):
    """Adds ``output_column``: the float32 vectors of ``column``'s texts, one row each; every other
    column is kept as it is. Takes batches as ``batch_format='numpy'`` (a dict of arrays),
    ``'pandas'`` (a DataFrame) or ``'pyarrow'`` (a Table). As in bert-as-service, a text ``'A ||| B'``
    is the sentence pair (A, B).

    :param model: the model directory (the same absolute path on every node) or Hugging Face repo id
        the actor's server loads
    :param column: the column of texts (non-empty strings)
    :param output_column: the column the vectors go to; it must not exist yet
    :param socket: attach to a running ``bert-embed serve --socket PATH`` instead of starting one
        (then ``model`` and the server flags below are not given)
    :param max_seq_len: ``--max-seq-len``: tokens per sentence, or None for no fixed length (default: the model's)
    :param pooling: ``--pooling``: one of NONE, REDUCE_MEAN, REDUCE_MAX, REDUCE_MEAN_MAX, CLS_TOKEN,
        FIRST_TOKEN, SEP_TOKEN, LAST_TOKEN (default: the model's)
    :param normalize: True for ``--normalize`` (L2-normalized vectors); None: the model's own setting
    :param dtype: ``--dtype``: float32, float16 (CUDA), bfloat16 or int8 (CPU)
    :param max_batch_size: ``--batch-size``: most sentences in one forward pass of the server
    :param startup_timeout: seconds to wait for the server's GET /health (default 120)
    :param request_timeout: seconds to wait for one request's answer (default: no limit)

    The server gets ``--threads`` from the actor's CPUs (``num_cpus``, at least 1) and ``--devices``
    from its GPUs (``num_gpus``: cuda:0..k-1 of those Ray made visible; none: the CPU). It dies with
    the actor, even when the actor is SIGKILLed, and is stopped by ``close()``, when the object is
    collected (Ray Data drops its actors' UDFs at shutdown) or at exit. A server that cannot start
    raises ``ServerStartError`` from the constructor, naming the model, the command and its stderr.
    """

    def __init__(self, model=None, column='text', *, output_column='embedding', socket=None, max_seq_len=_MODEL_DEFAULT,
                 pooling=None, normalize=None, dtype=None, max_batch_size=None, startup_timeout=120.0, request_timeout=None,
                 **unknown):
        if unknown:
            raise TypeError('BertEmbedder got an unknown argument %r; it takes model, column, output_column, socket, '
                            'max_seq_len, pooling, normalize, dtype, max_batch_size, startup_timeout, request_timeout'
                            % sorted(unknown)[0])
        self.column = _check_column('column', column)
        self.output_column = _check_column('output_column', output_column)
        if self.output_column == self.column:
            raise ValueError('Expected an output_column other than column (%r): the texts would be overwritten' % column)
        startup_timeout = _check_seconds('startup_timeout', startup_timeout)
        timeout_ms = -1 if request_timeout is None else _check_seconds('request_timeout', request_timeout) * 1000.0
        server_options = dict(max_seq_len=max_seq_len, pooling=pooling, normalize=normalize, dtype=dtype, max_batch_size=max_batch_size)
        flags = _serve_flags(**server_options)
        self._server = None
        self._client = None
        self._width = None
        if socket is not None:
            if model is not None:
                raise ValueError('Expected model or socket but received both: with socket=%r the running server\'s model is used' % (socket,))
            given = [name for name, value in server_options.items() if value is not _SERVER_DEFAULTS[name]]
            if given:
                raise ValueError('Expected no server options with socket=%r (the running server\'s apply) but received %s'
                                 % (socket, ', '.join(given)))
            if not isinstance(socket, (str, os.PathLike)):
                raise TypeError(expected('socket', 'the path of a UNIX socket', socket))
            socket_path = os.fspath(socket)
        else:
            if not isinstance(model, (str, os.PathLike)) or not os.fspath(model):
                raise TypeError(expected('model', 'a model directory or Hugging Face repo id (or socket= of a running server)', model))
            self._server = ServerProcess(os.fspath(model), flags + _placement_flags(), startup_timeout)
            socket_path = self._server.socket
        self._socket_path = socket_path
        try:
            self._client = BertClient(socket=socket_path, timeout=timeout_ms, check_length=False, check_token_info=False)
        except BaseException:
            _close_all(self._server, None)
            raise
        # One finalizer for close(), garbage collection and exit: it holds the server and the client, never self.
        self._close = weakref.finalize(self, _close_all, self._server, self._client)

    @property
    def socket(self):
        """The UNIX socket of the server this embedder talks to."""
        return self._socket_path

    @property
    def server_pid(self):
        """The pid of the server this embedder started (None when attached with ``socket=``)."""
        return None if self._server is None else self._server.process.pid

    def __call__(self, batch):
        if isinstance(batch, dict):
            texts = self._texts(batch.get(self.column), list(batch))
            self._check_free(batch)
            out = dict(batch)
            out[self.output_column] = self._embed(texts)
            return out
        pandas, pyarrow = sys.modules.get('pandas'), sys.modules.get('pyarrow')
        if pandas is not None and isinstance(batch, pandas.DataFrame):
            texts = self._texts(batch[self.column].to_numpy() if self.column in batch.columns else None, list(batch.columns))
            self._check_free(batch.columns)
            out = batch.copy(deep=False)
            out[self.output_column] = list(self._embed(texts))
            return out
        if pyarrow is not None and isinstance(batch, pyarrow.Table):
            from ray.data.extensions import ArrowTensorArray
            names = batch.column_names
            texts = self._texts(batch.column(self.column).to_numpy(zero_copy_only=False) if self.column in names else None, names)
            self._check_free(names)
            return batch.append_column(self.output_column, ArrowTensorArray.from_numpy(self._embed(texts)))
        raise TypeError(expected('batch', "a dict of numpy arrays (batch_format='numpy'), a pandas.DataFrame or a pyarrow.Table", batch))

    def close(self):
        """Closes the client and stops the server this embedder started (idempotent)."""
        self._close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    def _texts(self, values, columns):
        if values is None:
            raise ValueError('Expected a column %r of texts but the batch has only %s' % (self.column, ', '.join(map(repr, columns)) or 'no columns'))
        texts = values.tolist() if isinstance(values, np.ndarray) else list(values)
        for row, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError('Expected a non-empty string in column %r but received %r (row %d of the batch)' % (self.column, text, row))
        return texts

    def _check_free(self, columns):
        if self.output_column in columns:
            raise ValueError('The batch already has a column %r: choose another output_column' % self.output_column)

    def _embed(self, texts):
        if not texts:
            return np.zeros((0,) + self._row_shape(), dtype=np.float32)
        if len(texts) <= _REQUEST_ROWS:
            vectors = self._client.encode(texts)
        else:
            chunks = (texts[i:i + _REQUEST_ROWS] for i in range(0, len(texts), _REQUEST_ROWS))
            vectors = np.concatenate([answer.embedding for answer in self._client.encode_async(chunks)])
        self._width = vectors.shape[1:]
        return vectors

    def _row_shape(self):
        if self._width is None:  # an empty first batch: one sentence tells the vectors' shape
            self._width = self._client.encode(['a']).shape[1:]
        return self._width


def _close_all(server, client):
    if client is not None:
        client.close()
    if server is not None:
        server.stop()


def _placement_flags():
    """--threads from the actor's CPUs and --devices from its GPUs; nothing outside Ray (the server's defaults)."""
    if not ray.is_initialized():
        return []
    cpus = ray.get_runtime_context().get_assigned_resources().get('CPU', 0)
    flags = ['--threads', str(max(1, int(cpus)))]
    gpus = ray.get_gpu_ids()
    if gpus:
        # Ray sets CUDA_VISIBLE_DEVICES to the actor's GPUs, which the server then sees as cuda:0..k-1.
        visible = range(len(gpus)) if os.environ.get('CUDA_VISIBLE_DEVICES') else [int(gpu) for gpu in gpus]
        flags += ['--devices'] + ['cuda:%d' % gpu for gpu in visible]
    return flags


def _serve_flags(max_seq_len, pooling, normalize, dtype, max_batch_size):
    flags = []
    if max_seq_len is not _MODEL_DEFAULT:
        if max_seq_len is None:
            flags += ['--max-seq-len', 'NONE']
        else:
            flags += ['--max-seq-len', str(_check_integer('max_seq_len', max_seq_len, 2, 'an integer of at least 2, or None for no fixed length'))]
    if pooling is not None:
        if pooling not in _POOLING:
            raise ValueError(expected('pooling', 'one of ' + ', '.join(_POOLING), pooling))
        flags += ['--pooling', pooling]
    if normalize is not None:
        if normalize is not True:
            raise ValueError(expected('normalize', "True, or None for the model's own setting (the server has no flag to "
                                                   "turn a model's Normalize module off)", normalize))
        flags.append('--normalize')
    if dtype is not None:
        if dtype not in _DTYPES:
            raise ValueError(expected('dtype', 'one of ' + ', '.join(_DTYPES), dtype))
        flags += ['--dtype', dtype]
    if max_batch_size is not None:
        flags += ['--batch-size', str(_check_integer('max_batch_size', max_batch_size, 1, 'a positive integer'))]
    return flags


def _check_column(field, name):
    if not isinstance(name, str) or not name:
        raise TypeError(expected(field, 'a column name (a non-empty string)', name))
    return name


def _check_integer(field, value, minimum, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(expected(field, what, value))
    if value < minimum:
        raise ValueError(expected(field, what, value))
    return int(value)


def _check_seconds(field, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(expected(field, 'a positive number of seconds', value))
    if not value > 0:
        raise ValueError(expected(field, 'a positive number of seconds', value))
    return float(value)
