"""The Ray side of bench/scale-out.mjs: a local cluster of two 1-CPU nodes (all on loopback), and
one map_batches job per pool size, each timed from submission to the last row materialized (the
actors' server start and model load included). Prints one JSON line per pool size.

argv[1]: a JSON file {"model", "sentences", "sizes", "batch_size", "max_seq_len"}; BERT_EMBED_BIN names bin/bert-embed.js.
"""
import json
import os
import shutil
import sys
import tempfile
import time

# Keeps Ray on 127.0.0.1 (see test/scale-out/ray_pipeline.py); read when ray is imported.
os.environ['RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER'] = '0'

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from ray.data import ActorPoolStrategy  # noqa: E402

from bert_embed.ray import BertEmbedder  # noqa: E402

NODE = dict(num_cpus=1, object_store_memory=400 * 1024 * 1024, node_ip_address='127.0.0.1')


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    rows = [{'id': i, 'text': text} for i, text in enumerate(config['sentences'])]
    ray_dir = tempfile.mkdtemp(prefix='ray-', dir='/tmp')
    os.environ['RAY_TMPDIR'] = ray_dir
    cluster = None
    try:
        cluster = Cluster(initialize_head=True, head_node_args=dict(NODE, include_dashboard=False))
        cluster.add_node(**NODE)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        ds = ray.data.from_items(rows, override_num_blocks=32).materialize()
        for size in config['sizes']:
            started = time.perf_counter()
            embedded = ds.map_batches(BertEmbedder, fn_constructor_kwargs={'model': config['model'], 'column': 'text', 'max_seq_len': config['max_seq_len']},
                                      batch_size=config['batch_size'], batch_format='numpy',
                                      compute=ActorPoolStrategy(size=size), num_cpus=1).materialize()
            seconds = time.perf_counter() - started
            print(json.dumps({'actors': size, 'rows': embedded.count(), 'seconds': seconds}), flush=True)
    finally:
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
        shutil.rmtree(ray_dir, ignore_errors=True)


if __name__ == '__main__':
    main()
