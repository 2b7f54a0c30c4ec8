#!/usr/bin/python3
"""Export a safetensors BERT checkpoint to ONNX in the layout transformers.js loads.

usage: /usr/bin/python3 scripts/export-onnx.py CHECKPOINT_DIR OUT_DIR
       /usr/bin/python3 scripts/export-onnx.py --mlm CHECKPOINT_DIR OUT_DIR
       /usr/bin/python3 scripts/export-onnx.py --token-classification CHECKPOINT_DIR OUT_DIR

Builds the Hugging Face-style torch BertModel of scripts/trace-hf-style.py over the checkpoint's
weights and writes OUT_DIR/onnx/model.onnx (inputs input_ids, attention_mask, token_type_ids;
output last_hidden_state; batch and sequence axes dynamic) with torch.onnx.export, plus the
checkpoint's config.json, tokenizer files and vocab.txt beside it. The export is checked against
the torch module on a padded batch when python3-onnxruntime is present; it is not needed.

--mlm exports Hugging Face transformers' own BertForMaskedLM (output logits [batch, sequence, vocab])
for transformers.js's fill-mask pipeline. It needs transformers, so it runs in the repository's .venv
(`npm run setup` makes it; the script re-runs itself with .venv/bin/python when the Python it was
started with lacks transformers). The checkpoint must hold the head (cls.predictions.*; a missing
decoder is tied to the word embeddings as in transformers); a weight transformers would have to
initialize randomly is an error. OUT_DIR gets config.json with architectures ["BertForMaskedLM"],
tokenizer.json written by the checkpoint's fast tokenizer, and tokenizer_config.json with BERT's
special tokens. The ONNX graph is checked against the torch model (on two batches of other shapes)
when onnxruntime is importable.

--token-classification does the same with transformers' BertForTokenClassification (output logits [batch, sequence,
labels]) for transformers.js's token-classification pipeline: config.json keeps the checkpoint's id2label, with
architectures ["BertForTokenClassification"]; the checkpoint must hold classifier.*.
"""

import importlib.util
import json
import os
import shutil
import sys

import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.path.join(HERE, '..', '.venv', 'bin', 'python')

# The heads exported through transformers' own classes (the flag, the class): they need transformers.
HEADS = {'--mlm': 'BertForMaskedLM', '--token-classification': 'BertForTokenClassification'}

if __name__ == '__main__' and any(flag in sys.argv[1:] for flag in HEADS):
    try:
        import transformers  # noqa: F401
    except ImportError:
        if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(HERE, '..', '.venv')):
            os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
        sys.exit('export-onnx.py --mlm / --token-classification needs transformers: run `npm run setup` to create .venv')

import torch  # noqa: E402

spec = importlib.util.spec_from_file_location('trace_hf_style', os.path.join(HERE, 'trace-hf-style.py'))
hf_style = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hf_style)

COMPANIONS = ['config.json', 'vocab.txt', 'tokenizer.json', 'special_tokens_map.json']
BERT_TOKENIZER_DEFAULTS = {
    'tokenizer_class': 'BertTokenizer', 'unk_token': '[UNK]', 'sep_token': '[SEP]', 'pad_token': '[PAD]',
    'cls_token': '[CLS]', 'mask_token': '[MASK]', 'model_max_length': 512,
}


class LastHiddenState(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids, attention_mask, token_type_ids)[0]


def write_tokenizer_config(checkpoint_dir, out_dir):
    # bert-base-uncased's tokenizer_config.json names no special tokens (Python's BertTokenizer has
    # them as defaults); transformers.js reads them from the file and pads with an undefined id.
    source = os.path.join(checkpoint_dir, 'tokenizer_config.json')
    settings = json.load(open(source)) if os.path.exists(source) else {}
    for key, value in BERT_TOKENIZER_DEFAULTS.items():
        settings.setdefault(key, value)
    with open(os.path.join(out_dir, 'tokenizer_config.json'), 'w') as out:
        json.dump(settings, out)


class Logits(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


def export_head(checkpoint_dir, out_dir, architecture):
    """transformers' `architecture` (BertForMaskedLM, BertForTokenClassification) over the checkpoint, its logits."""
    import transformers
    from transformers import BertTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # the load report is checked below
    model, info = getattr(transformers, architecture).from_pretrained(checkpoint_dir, dtype=torch.float32, attn_implementation='eager',
                                                                      output_loading_info=True)
    if info['missing_keys'] or info.get('mismatched_keys'):
        sys.exit(f'export-onnx.py: {checkpoint_dir}: would initialize randomly: missing {sorted(info["missing_keys"])}, '
                 f'mismatched {sorted(info.get("mismatched_keys") or [])}')
    model.eval()
    config = model.config
    os.makedirs(os.path.join(out_dir, 'onnx'), exist_ok=True)
    onnx_path = os.path.join(out_dir, 'onnx', 'model.onnx')
    example = hf_style.example_batch({'vocab_size': config.vocab_size, 'type_vocab_size': config.type_vocab_size},
                                     2, 7, [7, 4], seed=1)
    names = ['input_ids', 'attention_mask', 'token_type_ids', 'logits']
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter's deprecation notice and its tracer's notes on transformers' mask helpers (shape
        # arithmetic that is the same for every input)
        warnings.simplefilter('ignore')
        torch.onnx.export(
            Logits(model).eval(), example, onnx_path,
            input_names=names[:3], output_names=names[3:],
            dynamic_axes={name: {0: 'batch', 1: 'sequence'} for name in names},
            opset_version=14, dynamo=False,
        )
    check_export(model, onnx_path, config)

    with open(os.path.join(checkpoint_dir, 'config.json')) as f:
        config_json = json.load(f)
    config_json['architectures'] = [architecture]
    with open(os.path.join(out_dir, 'config.json'), 'w') as f:
        json.dump(config_json, f, indent=2)
    shutil.copyfile(os.path.join(checkpoint_dir, 'vocab.txt'), os.path.join(out_dir, 'vocab.txt'))
    BertTokenizerFast.from_pretrained(checkpoint_dir).save_pretrained(out_dir)
    # What save_pretrained wrote, completed with BERT's special tokens (see write_tokenizer_config).
    saved = os.path.join(out_dir, 'tokenizer_config.json')
    settings = json.load(open(saved)) if os.path.exists(saved) else {}
    for key, value in BERT_TOKENIZER_DEFAULTS.items():
        settings.setdefault(key, value)
    for key in ('is_local', 'local_files_only'):  # how this copy was loaded, not a setting
        settings.pop(key, None)
    if settings.get('model_max_length', 0) > 1 << 30:  # "no limit" as transformers writes it: the model's own
        settings['model_max_length'] = config.max_position_embeddings
    with open(saved, 'w') as out:
        json.dump(settings, out)
    print(onnx_path)
    return 0


def check_export(model, onnx_path, config):
    """The ONNX graph against the torch model on batches of other shapes (only where onnxruntime is installed)."""
    try:
        import onnxruntime
    except ImportError:
        return
    session = onnxruntime.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
    for batch, length, lengths in [(1, 3, [3]), (3, 19, [19, 5, 11])]:
        ids, mask, types = hf_style.example_batch({'vocab_size': config.vocab_size, 'type_vocab_size': config.type_vocab_size},
                                                  batch, length, lengths, seed=batch)
        (got,) = session.run(None, {'input_ids': ids.numpy(), 'attention_mask': mask.numpy(), 'token_type_ids': types.numpy()})
        with torch.no_grad():
            want = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits.numpy()
        real = mask.numpy().astype(bool)
        diff = float(abs(got - want)[real].max())
        # Relative to the logits' scale, as transformers' own export checks allow: bert-base's vocabulary
        # logits differ by 1.35e-4 between onnxruntime's and torch's AVX-512 kernels, well within float32.
        scale = float(abs(want)[real].max())
        if diff > 1e-4 * (1.0 + scale):
            sys.exit(f'export-onnx.py: the ONNX logits differ from transformers by {diff} (largest logit {scale}) on a {batch} x {length} batch')


def main(argv):
    heads = [HEADS[a] for a in argv if a in HEADS]
    argv = [a for a in argv if a not in HEADS]
    if len(argv) != 2 or len(heads) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    checkpoint_dir, out_dir = argv
    if heads:
        return export_head(checkpoint_dir, out_dir, heads[0])
    model, config = hf_style.load_model(checkpoint_dir)
    os.makedirs(os.path.join(out_dir, 'onnx'), exist_ok=True)
    example = hf_style.example_batch(config, 2, 7, [7, 4], seed=1)
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model).eval(),
            example,
            os.path.join(out_dir, 'onnx', 'model.onnx'),
            input_names=['input_ids', 'attention_mask', 'token_type_ids'],
            output_names=['last_hidden_state'],
            dynamic_axes={name: {0: 'batch', 1: 'sequence'} for name in ['input_ids', 'attention_mask', 'token_type_ids', 'last_hidden_state']},
            opset_version=14,
        )
    for name in COMPANIONS:
        source = os.path.join(checkpoint_dir, name)
        if os.path.exists(source):
            shutil.copyfile(source, os.path.join(out_dir, name))
    write_tokenizer_config(checkpoint_dir, out_dir)
    print(os.path.join(out_dir, 'onnx', 'model.onnx'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
