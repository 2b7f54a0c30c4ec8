"""BertEmbedder without a Ray cluster (its constructor and __call__ are plain Python): the batch
formats, attaching to a running server, its server's lifetime, and the errors of a server that does
not start. Prints what happened as JSON, for ray.test.ts to check against the Node API's vectors.

argv[1]: a JSON file {"model", "sentences", "max_seq_len"}; BERT_EMBED_BIN names this checkout's bin/bert-embed.js.
"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from bert_embed.ray import BertEmbedder

# More rows than one request carries (bert_embed.ray sends at most 512 sentences per request).
LARGE_BATCH_ROWS = 1100


def float32(array):
    array = np.ascontiguousarray(np.stack(list(array)) if array.dtype == object else array, dtype='<f4')
    return {'shape': list(array.shape), 'dtype': str(np.asarray(array).dtype),
            'float32': base64.b64encode(array.tobytes()).decode('ascii')}


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def wait_gone(pid, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def failure(make):
    """The exception make() raises, as {type, code, message}."""
    try:
        make()
    except Exception as error:  # noqa: BLE001 - every kind is reported to the test
        return {'type': type(error).__name__, 'code': getattr(error, 'code', None), 'message': str(error)}
    return None


def with_env(changes, make):
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update({name: value for name, value in changes.items() if value is not None})
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
    try:
        return make()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def formats(embedder, sentences):
    ids = np.arange(len(sentences))
    sources = ['sts-dev:%d' % i for i in ids]
    numpy_out = embedder({'id': ids, 'text': np.array(sentences), 'source': np.array(sources)})
    pandas_out = embedder(pd.DataFrame({'id': ids, 'text': sentences, 'source': sources}))
    arrow_out = embedder(pa.table({'id': ids, 'text': sentences, 'source': sources}))
    arrow_vectors = arrow_out.column('embedding').combine_chunks().to_numpy()
    large = embedder({'text': np.array([sentences[i % len(sentences)] for i in range(LARGE_BATCH_ROWS)])})
    empty = embedder({'id': np.arange(0), 'text': np.array([], dtype=object)})
    return {
        'numpy': {'columns': sorted(numpy_out), 'ids': numpy_out['id'].tolist(), 'sources': numpy_out['source'].tolist(),
                  'embedding': float32(numpy_out['embedding'])},
        'pandas': {'columns': sorted(pandas_out.columns), 'ids': pandas_out['id'].tolist(),
                   'sources': pandas_out['source'].tolist(), 'embedding': float32(pandas_out['embedding'].to_numpy())},
        'pyarrow': {'columns': sorted(arrow_out.column_names), 'ids': arrow_out.column('id').to_pylist(),
                    'sources': arrow_out.column('source').to_pylist(), 'embedding': float32(arrow_vectors)},
        'large': float32(large['embedding']),
        'empty_shape': list(empty['embedding'].shape),
    }


def attached(embedder, sentences):
    with BertEmbedder(socket=embedder.socket) as other:
        out = other({'text': np.array(sentences)})
        pid = other.server_pid
    return {'server_pid': pid, 'embedding': float32(out['embedding']), 'owner_server_alive_after_close': alive(embedder.server_pid)}


def started_on_a_thread(config):
    """Made on a thread that then ends: PR_SET_PDEATHSIG must not take the server with that thread."""
    made = []
    thread = threading.Thread(target=lambda: made.append(BertEmbedder(model=config['model'], max_seq_len=config['max_seq_len'])))
    thread.start()
    thread.join()
    time.sleep(0.5)
    embedder = made[0]
    try:
        return {'server_alive': alive(embedder.server_pid),
                'embedding': float32(embedder({'text': np.array(config['sentences'][:3])})['embedding'])}
    finally:
        embedder.close()


def closed(config):
    embedder = BertEmbedder(model=config['model'], max_seq_len=config['max_seq_len'])
    pid, socket_dir = embedder.server_pid, os.path.dirname(embedder.socket)
    embedder.close()
    embedder.close()  # idempotent
    gone = not alive(pid)
    with BertEmbedder(model=config['model']) as scoped:
        scoped_pid, scoped_dir = scoped.server_pid, os.path.dirname(scoped.socket)
        # an empty first batch: the vectors' width is asked of the server
        empty_first_shape = list(scoped({'text': np.array([], dtype=object)})['embedding'].shape)
    return {'server_gone': gone, 'socket_dir_removed': not os.path.exists(socket_dir), 'empty_first_shape': empty_first_shape,
            'context_manager_server_gone': wait_gone(scoped_pid, 0.0), 'context_manager_socket_dir_removed': not os.path.exists(scoped_dir)}


OWNER = '''
import json, sys, time
from bert_embed.ray import BertEmbedder
embedder = BertEmbedder(model=sys.argv[1])
print(json.dumps({"server_pid": embedder.server_pid, "socket": embedder.socket}), flush=True)
time.sleep(120)
'''


def owner_killed(config):
    """The owner of a server is SIGKILLed: its server must not outlive it."""
    owner = subprocess.Popen([sys.executable, '-c', OWNER, config['model']], stdout=subprocess.PIPE)
    started = None
    try:
        started = json.loads(owner.stdout.readline())
        was_alive = alive(started['server_pid'])
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        began = time.monotonic()
        gone = wait_gone(started['server_pid'])
        return {'server_alive_before': was_alive, 'server_gone': gone, 'seconds': time.monotonic() - began}
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.stdout.close()
        if started:  # a SIGKILLed owner cannot remove its socket's directory
            shutil.rmtree(os.path.dirname(started['socket']), ignore_errors=True)


def startup_timeout():
    """A command that never answers /health: the constructor gives up after startup_timeout and stops it."""
    command = "sh -c 'echo started as pid $$ >&2; exec sleep 60'"
    began = time.monotonic()
    result = with_env({'BERT_EMBED_BIN': command}, lambda: failure(lambda: BertEmbedder(model='/models/x', startup_timeout=1)))
    result['seconds'] = time.monotonic() - began
    pid = re.search(r'started as pid (\d+)', result['message'])
    result['stopped'] = pid is not None and wait_gone(int(pid.group(1)), 5.0)
    return result


def errors(config):
    model = config['model']
    embedder = BertEmbedder(model=model, max_seq_len=config['max_seq_len'])
    try:
        batch_errors = {
            'missing_column': failure(lambda: embedder({'id': np.arange(2), 'body': np.array(['a', 'b'])})),
            'not_a_string': failure(lambda: embedder({'text': np.array(['fine', None, 'x'], dtype=object)})),
            'empty_string': failure(lambda: embedder(pd.DataFrame({'text': ['fine', '  ']}))),
            'output_exists': failure(lambda: embedder({'text': np.array(['a']), 'embedding': np.array([1])})),
            'not_a_batch': failure(lambda: embedder(['a', 'b'])),
        }
    finally:
        embedder.close()
    return dict(batch_errors, **{
        'missing_model': failure(lambda: BertEmbedder(model='/nonexistent/model-dir')),
        'command_exits': with_env({'BERT_EMBED_BIN': "sh -c 'echo no engine here >&2; exit 3' bert-embed"},
                                  lambda: failure(lambda: BertEmbedder(model=model))),
        'startup_timeout': startup_timeout(),
        'bin_missing': with_env({'BERT_EMBED_BIN': '/nonexistent/bin/bert-embed.js'}, lambda: failure(lambda: BertEmbedder(model=model))),
        'not_on_path': with_env({'BERT_EMBED_BIN': None, 'PATH': '/nonexistent'}, lambda: failure(lambda: BertEmbedder(model=model))),
        'unknown_argument': failure(lambda: BertEmbedder(model=model, device_map=[0])),
        'bad_pooling': failure(lambda: BertEmbedder(model=model, pooling='mean')),
        'bad_max_seq_len': failure(lambda: BertEmbedder(model=model, max_seq_len='32')),
        'model_and_socket': failure(lambda: BertEmbedder(model=model, socket='/tmp/x.sock')),
        'options_with_socket': failure(lambda: BertEmbedder(socket='/tmp/x.sock', max_seq_len=None, pooling='CLS_TOKEN')),
        'no_server_at_socket': failure(lambda: BertEmbedder(socket='/nonexistent/bert.sock')),
    })


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    result = {}
    with BertEmbedder(model=config['model'], max_seq_len=config['max_seq_len']) as embedder:
        result['formats'] = formats(embedder, config['sentences'])
        result['attached'] = attached(embedder, config['sentences'])
    result['thread'] = started_on_a_thread(config)
    result['closed'] = closed(config)
    result['owner_killed'] = owner_killed(config)
    result['errors'] = errors(config)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
