"""Runs BertEmbedder in Ray Data pipelines on a local two-node cluster and writes what happened, as
JSON in work_dir/result.json, for ray.test.ts to check against the Node API's vectors.

argv[1]: a JSON file {"model", "sentences", "max_seq_len", "pooling", "work_dir"}. Two runs:
- "numpy": batch_format numpy, two actors (one per node); the first actor to reach its second
  batch SIGKILLs its own process mid-batch, once (a marker file makes it once per job). Ray Data
  restarts the actor and retries the lost batch.
- "pandas": batch_format pandas, with pooling and normalize passed on to the servers.
- "broken": a model directory that does not exist: the job fails, saying why.
Every actor records its pid, its node, its server's pid, command line and socket in work_dir/<run>-actors.jsonl.
"""
import base64
import json
import os
import signal
import sys
import shutil
import tempfile
import time

# Ray resolves a loopback cluster address to the machine's outward IP unless it thinks clusters are
# off (its single-machine mode); this keeps every Ray connection on 127.0.0.1. Read when ray is imported.
os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '0'

import numpy as np  # noqa: E402
import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from ray.data import ActorPoolStrategy  # noqa: E402

from bert_embed.ray import BertEmbedder  # noqa: E402

LOOPBACK = '127.0.0.1'
OBJECT_STORE_BYTES = 100 * 1024 * 1024
BATCH_SIZE = 16
KILL_AT_BATCH = 2


class RecordingEmbedder(BertEmbedder):
    """BertEmbedder that says where its server runs, and (with kill_marker) kills its own actor once."""

    def __init__(self, record_file, kill_marker=None, **kwargs):
        super().__init__(**kwargs)
        self._kill_marker = kill_marker
        self._batches = 0
        with open('/proc/%d/cmdline' % self.server_pid, 'rb') as cmdline:
            server_argv = [arg.decode() for arg in cmdline.read().split(b'\0') if arg]
        self._record = {'actor_pid': os.getpid(), 'server_pid': self.server_pid, 'socket': self.socket,
                        'node_id': ray.get_runtime_context().get_node_id(), 'server_argv': server_argv}
        with open(record_file, 'a') as out:
            out.write(json.dumps(self._record) + '\n')

    def __call__(self, batch):
        self._batches += 1
        if self._kill_marker and self._batches == KILL_AT_BATCH and _claim(self._kill_marker, self._record):
            os.kill(os.getpid(), signal.SIGKILL)  # mid-batch: this batch is lost and must be retried
        return super().__call__(batch)


def _claim(marker, record):
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    with os.fdopen(fd, 'w') as out:
        out.write(json.dumps(record))
    return True


def _float32(array):
    array = np.ascontiguousarray(array, dtype='<f4')
    return {'shape': list(array.shape), 'float32': base64.b64encode(array.tobytes()).decode('ascii')}


def _run(ds, batch_format, record_file, kill_marker, server_kwargs):
    started = time.monotonic()
    embedded = ds.map_batches(
        RecordingEmbedder,
        fn_constructor_kwargs=dict(record_file=record_file, kill_marker=kill_marker, model=server_kwargs.pop('model'),
                                   column='text', **server_kwargs),
        batch_size=BATCH_SIZE, batch_format=batch_format, compute=ActorPoolStrategy(size=2), num_cpus=1,
        # Ray Data 2.58's defaults, spelled out: a killed actor is restarted, its lost batch retried
        max_restarts=-1, max_task_retries=-1)
    rows = embedded.take_all()
    ids = [int(row['id']) for row in rows]
    return {
        'seconds': time.monotonic() - started,
        'ids': ids,
        'sources': [str(row['source']) for row in rows],
        'columns': sorted(rows[0].keys()) if rows else [],
        'embedding': _float32(np.stack([np.asarray(row['embedding']) for row in rows])),
    }


def _broken_model(ds, model):
    """A model that does not exist: the job must fail, and the driver must see why."""
    started = time.monotonic()
    try:
        ds.map_batches(BertEmbedder, fn_constructor_kwargs={'model': model}, batch_size=BATCH_SIZE,
                       compute=ActorPoolStrategy(size=1), num_cpus=1).take_all()
    except Exception as error:  # noqa: BLE001 - whatever Ray wraps it in is reported to the test
        return {'type': type(error).__name__, 'message': str(error), 'seconds': time.monotonic() - started}
    return None


def _alive(pid):
    """True while the process exists and is not a zombie (an orphan's zombie waits for whoever reaps it)."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        return False


def _wait_gone(pids, timeout_s):
    deadline = time.monotonic() + timeout_s
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {str(pid): not _alive(pid) for pid in pids}


def _records(record_file):
    with open(record_file) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def main():
    # a test runner's SIGTERM (its timeout) still shuts the cluster down, in main's finally
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with open(sys.argv[1]) as f:
        config = json.load(f)
    work = config['work_dir']
    ds_rows = [{'id': i, 'text': text, 'source': 'sts-dev:%d' % i} for i, text in enumerate(config['sentences'])]
    result = {}
    # Ray's sessions, logs and address file go here rather than /tmp/ray, and are removed at the end
    ray_dir = tempfile.mkdtemp(prefix='ray-', dir='/tmp')
    os.environ['RAY_TMPDIR'] = ray_dir
    cluster = None
    try:
        node = dict(num_cpus=1, object_store_memory=OBJECT_STORE_BYTES, node_ip_address=LOOPBACK)
        cluster = Cluster(initialize_head=True, head_node_args=dict(node, include_dashboard=False))
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, _node_ip_address=LOOPBACK, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        ds = ray.data.from_items(ds_rows, override_num_blocks=8)

        numpy_records = os.path.join(work, 'numpy-actors.jsonl')
        marker = os.path.join(work, 'killed.json')
        result['numpy'] = _run(ds, 'numpy', numpy_records, marker,
                               {'model': config['model'], 'max_seq_len': config['max_seq_len']})
        with open(marker) as f:
            killed = json.load(f)
        result['killed'] = killed
        result['killed_server_gone'] = _wait_gone([killed['server_pid']], 10.0)[str(killed['server_pid'])]
        result['numpy']['actors'] = _records(numpy_records)

        pandas_records = os.path.join(work, 'pandas-actors.jsonl')
        result['pandas'] = _run(ds, 'pandas', pandas_records, None,
                                {'model': config['model'], 'max_seq_len': config['max_seq_len'],
                                 'pooling': config['pooling'], 'normalize': True})
        result['pandas']['actors'] = _records(pandas_records)
        result['broken'] = _broken_model(ds, os.path.join(work, 'no-such-model'))
    finally:
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
        shutil.rmtree(ray_dir, ignore_errors=True)
    servers = [actor['server_pid'] for run in ('numpy', 'pandas') for actor in result[run]['actors']]
    # every server is gone once the cluster is: stopped by its actor, or killed with it
    result['servers_gone_after_shutdown'] = _wait_gone(servers, 15.0)
    result['socket_dirs_left'] = [actor['socket'] for run in ('numpy', 'pandas') for actor in result[run]['actors']
                                  if os.path.exists(os.path.dirname(actor['socket']))]
    # stdout is Ray's (its raylet prints there); the result goes to a file of its own
    with open(os.path.join(work, 'result.json'), 'w') as out:
        json.dump(result, out)


if __name__ == '__main__':
    main()
