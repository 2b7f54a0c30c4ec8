"""The pip-installed bert_embed client's failures, one scenario per run (see python-client.test.ts):

    python client_errors.py '{"scenario": "no_server" | "hanging" | "tokens_refused" | "idle" | "validation", "connection": {...}}'

Prints one JSON object describing what was raised (class names, code, message, seconds taken).
"""
import base64
import json
import sys
import time
import warnings

import numpy as np

import bert_embed
from bert_embed.client import BertClient

args = json.loads(sys.argv[1])
CONNECTION = args['connection']


def raised(call):
    started = time.monotonic()
    try:
        call()
    except Exception as error:
        return {
            'classes': [cls.__name__ for cls in type(error).__mro__],
            'code': getattr(error, 'code', None),
            'status': getattr(error, 'status', None),
            'message': str(error),
            'seconds': time.monotonic() - started,
        }
    return {'classes': [], 'seconds': time.monotonic() - started}


def float32(array):
    return {'shape': list(array.shape), 'float32': base64.b64encode(np.ascontiguousarray(array, dtype='<f4').tobytes()).decode('ascii')}


scenario = args['scenario']
if scenario == 'no_server':
    print(json.dumps({
        'construct': raised(lambda: BertClient(**CONNECTION)),
        'construct_timeout': raised(lambda: BertClient(timeout=60000, **CONNECTION)),
        'encode_unchecked': raised(lambda: BertClient(ignore_all_checks=True, **CONNECTION).encode(['hello'])),
    }))
elif scenario == 'hanging':
    print(json.dumps({
        'construct': raised(lambda: BertClient(timeout=args['timeout'], **CONNECTION)),
        'encode_unchecked': raised(lambda: BertClient(timeout=args['timeout'], ignore_all_checks=True, **CONNECTION).encode(['hello'])),
    }))
elif scenario == 'tokens_refused':
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        checked = BertClient(**CONNECTION).encode(['hello world!', 'thisis it'], show_tokens=True)
    print(json.dumps({
        'checked_type': type(checked).__name__,
        'checked': float32(checked),
        'checked_warnings': [str(w.message) for w in caught],
        'unchecked': raised(lambda: BertClient(check_token_info=False, **CONNECTION).encode(['hello world!'], show_tokens=True)),
        'server_error_class': bert_embed.ServerError.__name__,
    }))
elif scenario == 'idle':
    # a kept-alive connection the server closed while the client sat idle is replaced, not an error
    bc = BertClient(**CONNECTION)
    before = bc.encode(['hello world!'])
    time.sleep(args['seconds'])
    after = bc.encode(['hello world!'])
    print(json.dumps({'before': float32(before), 'after': float32(after)}))
elif scenario == 'validation':
    bc = BertClient(**CONNECTION)
    calls = {
        'not_a_list': lambda: bc.encode('First do it'),
        'empty_list': lambda: bc.encode([]),
        'not_a_string': lambda: bc.encode(['First do it', 3]),
        'blank_string': lambda: bc.encode(['First do it', '  ']),
        'tokenized_not_lists': lambda: bc.encode(['hello', 'world'], is_tokenized=True),
        'tokenized_empty_tokens': lambda: bc.encode([['hello'], []], is_tokenized=True),
        'output_fmt': lambda: BertClient(output_fmt='tensor', **CONNECTION),
        'timeout': lambda: BertClient(timeout=0, **CONNECTION),
        'max_concurrency': lambda: bert_embed.ConcurrentBertClient(max_concurrency=0, **CONNECTION),
        'closed': lambda: (bc.close(), bc.encode(['First do it'])),
    }
    print(json.dumps({name: raised(call) for name, call in calls.items()}))
else:
    raise SystemExit('unknown scenario %r' % scenario)
