#!/usr/bin/env python3
"""TensorFlow itself as the writer and reader of bert-as-service's checkpoints (run with .venv/bin/python, which
`npm run setup` creates with tensorflow-cpu). Nothing here calls bert-embed-native.

stdin: {"jobs": [job, ...]}, stdout: {"results": [result, ...]}. Jobs:

  {"op": "write", "source": DIR, "out": DIR, "ckpt_name": "bert_model.ckpt", "config_name": "bert_config.json",
   "shards": 1, "extras": false}
      Reads DIR/model.safetensors and DIR/config.json (a Hugging Face checkpoint of the test fixtures) and writes a
      TensorFlow V2 checkpoint OUT/CKPT_NAME.index + .data-0000K-of-0000N with Google's variable names (the scopes of
      google-research/bert's modeling.py: bert/embeddings/word_embeddings, bert/encoder/layer_3/attention/self/
      query/kernel stored [in, out], LayerNorm gamma/beta, cls/predictions/output_bias, ...), each tensor in the
      safetensors file's own dtype (F32 DT_FLOAT, F16 DT_HALF, BF16 DT_BFLOAT16), written by tf.raw_ops.SaveV2.
      With shards 2, the tensors are split over two SaveV2 bundles merged by tf.raw_ops.MergeV2Checkpoints, as
      TensorFlow's sharded Saver does (data-00000-of-00002, data-00001-of-00002). With extras, the checkpoint also
      holds what fine-tuned checkpoints hold: adam_m/adam_v slots of every variable, global_step (int64),
      cls/seq_relationship/*, a classifier's output_weights/output_bias, and a string tensor. OUT also gets
      CONFIG_NAME (Google's config: the config.json's BERT fields, no model_type) and vocab.txt, unless config_name
      is null. Variables named in "float64" are written as DT_DOUBLE; those in "sliced" as the first half of their
      rows only, a slice of a partitioned variable (SaveV2's shape_and_slices).
      -> {"prefix": OUT/CKPT_NAME, "names": [the variable names written, model tensors only]}

  {"op": "read", "prefix": PREFIX, "names": [...]}
      tf.train.load_checkpoint(PREFIX).get_tensor(name) for each name.
      -> {"tensors": [{"dtype": "float32", "shape": [...], "values": base64 of float64 little-endian}]}
"""

import base64
import json
import os
import re
import shutil
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from safetensors import safe_open  # noqa: E402
from reference_jobs import run_jobs  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts'))
import bert_tensor_names as names  # noqa: E402

GOOGLE_CONFIG_FIELDS = ('attention_probs_dropout_prob', 'hidden_act', 'hidden_dropout_prob', 'hidden_size', 'initializer_range',
                        'intermediate_size', 'max_position_embeddings', 'num_attention_heads', 'num_hidden_layers',
                        'type_vocab_size', 'vocab_size')
TF_DTYPES = {'F32': tf.float32, 'F16': tf.float16, 'BF16': tf.bfloat16}


def google_name(canonical):
    """The modeling.py variable of a canonical Hugging Face name, and whether it is a dense kernel ([in, out])."""
    if canonical == 'cls.predictions.bias':
        return 'cls/predictions/output_bias', False
    scope = canonical if canonical.startswith('cls.') else 'bert.' + canonical
    scope, parameter = scope.rsplit('.', 1)
    scope = re.sub(r'\.layer\.(\d+)\.', r'.layer_\1.', scope).replace('.', '/')
    if scope.endswith('LayerNorm'):
        return f'{scope}/{"gamma" if parameter == "weight" else "beta"}', False
    if scope.endswith('_embeddings'):
        return scope, False
    return f'{scope}/{"kernel" if parameter == "weight" else "bias"}', parameter == 'weight'


def model_tensors(directory):
    """(google name, tf tensor) of every tensor Google's BERT has, from the safetensors checkpoint."""
    out = []
    path = os.path.join(directory, 'model.safetensors')
    with safe_open(path, framework='pt') as f:
        with open(path, 'rb') as raw:
            header = json.loads(raw.read(int.from_bytes(raw.read(8), 'little')))
        prefix = names.detect_prefix(f.keys())
        for key in f.keys():
            canonical = names.canonical(key, prefix)
            if canonical == names.POSITION_IDS or canonical.startswith('cls.predictions.decoder.'):
                continue
            name, kernel = google_name(canonical)
            value = f.get_tensor(key).float().numpy()
            if kernel:
                value = value.T.copy()
            out.append((name, tf.cast(tf.constant(value), TF_DTYPES[header[key]['dtype']])))
    return out


def extras(tensors, hidden):
    """What a fine-tuned checkpoint holds besides the model: none of it may matter to a reader."""
    rng = np.random.default_rng(5)
    out = []
    for name, value in tensors:
        out.append((name + '/adam_m', tf.constant(rng.standard_normal(value.shape.as_list()).astype(np.float32))))
        out.append((name + '/adam_v', tf.constant(np.full(value.shape.as_list(), np.nan, np.float32))))
    out.append(('global_step', tf.constant(1234, tf.int64)))
    out.append(('cls/seq_relationship/output_weights', tf.constant(rng.standard_normal((2, hidden)).astype(np.float32))))
    out.append(('cls/seq_relationship/output_bias', tf.constant(np.zeros(2, np.float32))))
    out.append(('output_weights', tf.constant(rng.standard_normal((3, hidden)).astype(np.float64))))
    out.append(('output_bias', tf.constant(np.zeros(3, np.float32))))
    out.append(('training_note', tf.constant('fine-tuned for the tests')))
    return out


def save(prefix, tensors, sliced=()):
    specs, values = [], []
    for name, value in tensors:
        if name in sliced:
            shape = value.shape.as_list()
            half = shape[0] // 2
            specs.append(' '.join(map(str, shape)) + f' 0,{half}' + ':-' * (len(shape) - 1))
            value = value[:half]
        else:
            specs.append('')
        values.append(value)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=[n for n, _ in tensors], shape_and_slices=specs, tensors=values)


def write(job, _models):
    source, out = job['source'], job['out']
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(source, 'config.json')) as f:
        config = json.load(f)
    tensors = model_tensors(source)
    tensors = [(n, tf.cast(t, tf.float64) if n in job.get('float64', []) else t) for n, t in tensors]
    written = [n for n, _ in tensors]
    if job.get('extras'):
        tensors += extras(tensors, config['hidden_size'])
    prefix = os.path.join(out, job.get('ckpt_name', 'bert_model.ckpt'))
    shards = job.get('shards', 1)
    sliced = set(job.get('sliced', []))
    if shards == 1:
        save(prefix, tensors, sliced)
    else:
        parts = [f'{prefix}_part{i}' for i in range(shards)]
        for i, part in enumerate(parts):
            save(part, tensors[i::shards], sliced)
        tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=prefix, delete_old_dirs=False)
    config_name = job.get('config_name', 'bert_config.json')
    if config_name is not None:
        with open(os.path.join(out, config_name), 'w') as f:
            json.dump({k: config[k] for k in GOOGLE_CONFIG_FIELDS if k in config}, f, indent=2)
        shutil.copyfile(os.path.join(source, 'vocab.txt'), os.path.join(out, 'vocab.txt'))
    return {'prefix': prefix, 'names': written}


def read(job, _models):
    reader = tf.train.load_checkpoint(job['prefix'])
    results = []
    for name in job['names']:
        value = reader.get_tensor(name)
        results.append({'dtype': str(value.dtype), 'shape': list(value.shape),
                        'values': base64.b64encode(np.asarray(value, np.float64).tobytes()).decode('ascii')})
    return {'tensors': results}


if __name__ == '__main__':
    run_jobs({'write': write, 'read': read}, {})
