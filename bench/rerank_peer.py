#!/usr/bin/env python3
"""The Python side of bench/rerank.mjs, run with .venv/bin/python.

  rerank_peer.py export-onnx CHECKPOINT OUT_DIR
      transformers' BertForSequenceClassification of the checkpoint (every weight its own: a weight transformers would
      initialize is an error) exported with torch.onnx.export to OUT_DIR/onnx/model.onnx (inputs input_ids,
      attention_mask, token_type_ids; output logits [batch, labels]; batch and sequence axes dynamic), with
      config.json, vocab.txt and the fast tokenizer's files beside it, the layout transformers.js loads.

  rerank_peer.py serve --model CHECKPOINT [--threads N] [--batch 32] [--max-length 128]
      sentence-transformers' CrossEncoder(CHECKPOINT, max_length=...) on torch's CPU build, loaded once and kept open:
      one JSON line on stdout per JSON line on stdin.
        (on start)                        -> {"ready": true, "loadSeconds"}
        {"op": "scores", "pairs"}         -> {"scores": [...]}: predict(pairs, batch_size=--batch) (the check)
        {"op": "passes", "pairs", "passes"} -> {"passes": [seconds per predict of all pairs]}
        {"op": "exit"}                    -> {"threads", "versions"}
      Every predict is model.predict(pairs, batch_size=--batch): CrossEncoder tokenizes, sorts by length, runs the
      batches and applies its activation (sigmoid for one label), all inside the time.
"""

import argparse
import json
import os
import shutil
import sys
import time
import warnings

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()


class Logits(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


def export_onnx(checkpoint, out_dir):
    from transformers import BertForSequenceClassification, BertTokenizerFast
    model, info = BertForSequenceClassification.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation='eager',
                                                                output_loading_info=True)
    if info['missing_keys'] or info.get('mismatched_keys'):
        sys.exit(f'rerank_peer.py: {checkpoint}: would initialize randomly: {info}')
    model.eval()
    os.makedirs(os.path.join(out_dir, 'onnx'), exist_ok=True)
    onnx_path = os.path.join(out_dir, 'onnx', 'model.onnx')
    ids = torch.randint(1000, 2000, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    names = ['input_ids', 'attention_mask', 'token_type_ids', 'logits']
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(Logits(model).eval(), (ids, mask, torch.zeros_like(ids)), onnx_path, input_names=names[:3],
                          output_names=names[3:], dynamic_axes={**{n: {0: 'batch', 1: 'sequence'} for n in names[:3]}, 'logits': {0: 'batch'}},
                          opset_version=14, dynamo=False)
    shutil.copyfile(os.path.join(checkpoint, 'config.json'), os.path.join(out_dir, 'config.json'))
    shutil.copyfile(os.path.join(checkpoint, 'vocab.txt'), os.path.join(out_dir, 'vocab.txt'))
    BertTokenizerFast.from_pretrained(checkpoint).save_pretrained(out_dir)
    saved = os.path.join(out_dir, 'tokenizer_config.json')
    settings = json.load(open(saved))
    for key in ('is_local', 'local_files_only'):
        settings.pop(key, None)
    if settings.get('model_max_length', 0) > 1 << 30:
        settings['model_max_length'] = model.config.max_position_embeddings
    json.dump(settings, open(saved, 'w'))
    print(onnx_path)


def serve(args):
    import sentence_transformers
    from sentence_transformers import CrossEncoder
    replies, sys.stdout = sys.stdout, sys.stderr
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model = CrossEncoder(args.model, max_length=args.max_length, device='cpu')

    def reply(value):
        replies.write(json.dumps(value) + '\n')
        replies.flush()

    def predict(pairs):
        return model.predict([tuple(p) for p in pairs], batch_size=args.batch, show_progress_bar=False)

    reply({'ready': True, 'loadSeconds': time.perf_counter() - started})
    for line in sys.stdin:
        request = json.loads(line)
        if request['op'] == 'scores':
            reply({'scores': [float(s) for s in predict(request['pairs'])]})
        elif request['op'] == 'passes':
            seconds = []
            for _ in range(request['passes']):
                begin = time.perf_counter()
                predict(request['pairs'])
                seconds.append(time.perf_counter() - begin)
            reply({'passes': seconds})
        elif request['op'] == 'exit':
            reply({'threads': torch.get_num_threads(), 'versions': {'torch': torch.__version__, 'transformers': transformers.__version__,
                                                                      'sentence-transformers': sentence_transformers.__version__}})
            return


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == 'export-onnx':
        export_onnx(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument('mode', choices=['serve'])
    parser.add_argument('--model', required=True)
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--max-length', type=int, default=128)
    serve(parser.parse_args())


if __name__ == '__main__':
    main()
