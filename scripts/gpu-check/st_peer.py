#!/usr/bin/env python3
"""The Python peer of scripts/gpu-check/bench.mjs: what a Python user runs on a GPU,
SentenceTransformer(dir, device='cuda').encode(sentences, batch_size=32), in float32, float16 and
bfloat16 (the model cast with model.to(dtype), each time from the float32 weights), on the python3
that holds torch (the device image's).

usage: python3 scripts/gpu-check/st_peer.py --model ST_DIR --sentences FILE --out-dir DIR
         [--device cuda] [--dtypes float32,float16,bfloat16] [--passes 3] [--latency-samples 200]
         [--batch 32] [--max-seq-len 128]

ST_DIR is a sentence-transformers directory (modules.json: Transformer, 1_Pooling mean, 2_Normalize)
beside the random-weight checkpoint (bench.mjs writes it). FILE holds one JSON array of sentences.
For each dtype: an untimed warm-up encode of all sentences (its float32 rows are written to
DIR/st-<dtype>.f32 in the order of the sentences, for bench.mjs's checks), --passes timed encodes of
all sentences, then --latency-samples encodes of one sentence each. Every encode returns the
normalized vectors on the host as float32 (convert_to_tensor, then .float().cpu(): numpy has no
bfloat16), which ends each timing with the device's work done. One JSON object goes to stdout;
library messages go to stderr.

When sentence-transformers is not installed, the same work is done with transformers' AutoModel:
length-sorted batches of --batch, mean pooling over the attention mask, L2 normalization; the JSON's
"peer" says which one ran.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

try:
    import sentence_transformers
    from sentence_transformers import SentenceTransformer
except ImportError:  # the fallback below
    sentence_transformers = None

DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16}


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def float32_state(model):
    """A host copy of the float32 weights, so that each dtype is cast from them, not from the last dtype's."""
    return {name: tensor.detach().to('cpu', copy=True) for name, tensor in model.state_dict().items()}


def cast(model, dtype, state):
    model.to(dtype)
    model.load_state_dict(state)  # copies (and converts) the float32 weights into the cast parameters


class StPeer:
    """sentence-transformers as a Python user runs it."""

    def __init__(self, model_dir, device, batch, max_seq_len):
        self.model = SentenceTransformer(model_dir, device=device)
        self.model.max_seq_length = max_seq_len
        self.batch = batch
        self.name = f'sentence-transformers {sentence_transformers.__version__}'
        self.float32_state = float32_state(self.model)

    def cast(self, dtype):
        cast(self.model, dtype, self.float32_state)

    def encode(self, texts):
        with torch.inference_mode():
            vectors = self.model.encode(texts, batch_size=self.batch, show_progress_bar=False, convert_to_tensor=True)
        return vectors.float().cpu()

    def attention(self):
        return self.model[0].auto_model.config._attn_implementation


class HfPeer:
    """transformers' AutoModel with mean pooling and normalization (when sentence-transformers is missing)."""

    def __init__(self, model_dir, device, batch, max_seq_len):
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
        self.model = transformers.AutoModel.from_pretrained(model_dir).to(device).eval()
        self.device = device
        self.batch = batch
        self.max_seq_len = max_seq_len
        self.name = 'transformers AutoModel + mean pooling + normalize (sentence-transformers is not installed)'
        self.float32_state = float32_state(self.model)

    def cast(self, dtype):
        cast(self.model, dtype, self.float32_state)

    def encode(self, texts):
        lengths = [len(ids) for ids in self.tokenizer(texts, truncation=True, max_length=self.max_seq_len)['input_ids']]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        rows = [None] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch):
                chunk = order[start:start + self.batch]
                enc = self.tokenizer([texts[i] for i in chunk], padding=True, truncation=True, max_length=self.max_seq_len,
                                     return_tensors='pt').to(self.device)
                hidden = self.model(**enc).last_hidden_state
                mask = enc['attention_mask'].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                mean = torch.nn.functional.normalize(mean.float(), dim=-1)
                for row, i in enumerate(chunk):
                    rows[i] = mean[row]
        return torch.stack(rows).cpu()

    def attention(self):
        return self.model.config._attn_implementation


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', required=True)
    parser.add_argument('--sentences', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--dtypes', default='float32,float16,bfloat16')
    parser.add_argument('--passes', type=int, default=3)
    parser.add_argument('--latency-samples', type=int, default=200)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--max-seq-len', type=int, default=128)
    args = parser.parse_args()
    replies, sys.stdout = sys.stdout, sys.stderr
    texts = json.load(open(args.sentences, encoding='utf8'))
    started = time.perf_counter()
    peer_class = StPeer if sentence_transformers is not None else HfPeer
    peer = peer_class(args.model, args.device, args.batch, args.max_seq_len)
    result = {
        'peer': peer.name,
        'versions': {'torch': torch.__version__, 'cuda': torch.version.cuda, 'transformers': transformers.__version__,
                     'sentence_transformers': getattr(sentence_transformers, '__version__', None)},
        'attention': peer.attention(),
        'loadSeconds': time.perf_counter() - started,
        'batch': args.batch,
        'sentences': len(texts),
        'dtypes': {},
    }
    if args.device == 'cpu':
        result['threads'] = torch.get_num_threads()
    for name in args.dtypes.split(','):
        entry = result['dtypes'][name] = {}
        try:
            peer.cast(DTYPES[name])
            sync(args.device)
            t = time.perf_counter()
            vectors = peer.encode(texts)
            entry['warmupSeconds'] = time.perf_counter() - t
            np.ascontiguousarray(vectors.numpy(), dtype=np.float32).tofile(os.path.join(args.out_dir, f'st-{name}.f32'))
            passes = []
            for _ in range(args.passes):
                t = time.perf_counter()
                peer.encode(texts)
                passes.append(time.perf_counter() - t)
            latencies = []
            for text in texts[:args.latency_samples]:
                t = time.perf_counter()
                peer.encode([text])
                latencies.append((time.perf_counter() - t) * 1000)
            entry.update(passes=passes, latenciesMs=latencies)
        except Exception as error:  # one dtype's failure is reported, the others still run
            entry['error'] = f'{type(error).__name__}: {error}'
    if args.device.startswith('cuda'):
        result['maxMemoryAllocatedMiB'] = torch.cuda.max_memory_allocated() / 2**20
    replies.write(json.dumps(result) + '\n')
    replies.flush()


if __name__ == '__main__':
    main()
