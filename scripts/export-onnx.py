#!/usr/bin/python3
"""Export a safetensors BERT checkpoint to ONNX in the layout transformers.js loads.

usage: /usr/bin/python3 scripts/export-onnx.py CHECKPOINT_DIR OUT_DIR

Builds the Hugging Face-style torch BertModel of scripts/trace-hf-style.py over the checkpoint's
weights and writes OUT_DIR/onnx/model.onnx (inputs input_ids, attention_mask, token_type_ids;
output last_hidden_state; batch and sequence axes dynamic) with torch.onnx.export, plus the
checkpoint's config.json, tokenizer files and vocab.txt beside it. The export is checked against
the torch module on a padded batch when python3-onnxruntime is present; it is not needed.
"""

import importlib.util
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
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


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    checkpoint_dir, out_dir = argv
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
