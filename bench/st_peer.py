#!/usr/bin/env python3
"""The Python peer of bench/peers.mjs and bench/fixed-length.mjs: what a Python user runs, sentence-transformers'
SentenceTransformer(dir, device='cpu').encode(sentences, batch_size=32) on torch's CPU build, run with
.venv/bin/python.

usage: .venv/bin/python bench/st_peer.py --model ST_DIR [--threads N] [--batch 32]
ST_DIR is a sentence-transformers directory (modules.json: Transformer, 1_Pooling mean, 2_Normalize), made by
bench/peer-engines.mjs's sentenceTransformersDirOf beside the random-weight checkpoint. The model is loaded once, with
torch.set_num_threads(--threads), and kept open: one JSON line on stdout per JSON line on stdin (library messages go to
stderr). Each request names the max_seq_len (SentenceTransformer.max_seq_length, the truncation):
  (on start)                                        -> {"ready": true, "loadSeconds"}
  {"op": "vectors", "texts", "maxSeqLen", "out"}    -> {"seconds"}: one encode of texts, float32 rows written to `out`
                                                       in the order of texts (the check, and the warm-up)
  {"op": "passes", "texts", "maxSeqLen", "passes"}  -> {"passes": [seconds per encode of all texts]}
  {"op": "latency", "texts", "maxSeqLen"}           -> {"latencies": [ms per encode([text]), one text per call]}
  {"op": "exit"}                                    -> {"threads", "versions", "maxRssMiB"}
Every encode is model.encode(texts, batch_size=--batch): sentence-transformers tokenizes (the fast tokenizer), sorts
by length, runs the batches under its own no-grad context, pools, normalizes and returns numpy, all inside the time.
"""

import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')

import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', required=True)
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--batch', type=int, default=32)
    args = parser.parse_args()
    # The replies own stdout; anything a library prints goes to stderr.
    replies, sys.stdout = sys.stdout, sys.stderr
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model = SentenceTransformer(args.model, device='cpu')

    def reply(value):
        replies.write(json.dumps(value) + '\n')
        replies.flush()

    def encode(texts, max_seq_len):
        model.max_seq_length = max_seq_len
        return model.encode(texts, batch_size=args.batch, show_progress_bar=False)

    reply({'ready': True, 'loadSeconds': time.perf_counter() - started})
    for line in sys.stdin:
        message = json.loads(line)
        op = message['op']
        if op == 'vectors':
            started = time.perf_counter()
            vectors = encode(message['texts'], message['maxSeqLen'])
            seconds = time.perf_counter() - started
            np.ascontiguousarray(vectors, dtype=np.float32).tofile(message['out'])
            reply({'seconds': seconds})
        elif op == 'passes':
            passes = []
            for _ in range(message['passes']):
                started = time.perf_counter()
                encode(message['texts'], message['maxSeqLen'])
                passes.append(time.perf_counter() - started)
            reply({'passes': passes})
        elif op == 'latency':
            latencies = []
            for text in message['texts']:
                started = time.perf_counter()
                encode([text], message['maxSeqLen'])
                latencies.append((time.perf_counter() - started) * 1000)
            reply({'latencies': latencies})
        else:
            transformer = model[0].auto_model
            reply({
                'threads': f'{torch.get_num_threads()} intra-op ({transformer.config._attn_implementation} attention)',
                'versions': f'sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}, '
                            f'torch {torch.__version__}',
                'maxRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            })
            return


if __name__ == '__main__':
    main()
