"""bert-as-service's own client examples, run against a live `bert-embed serve` with the pip-installed
bert_embed package (see python-client.test.ts). Each example is as bert-as-service's README.md (or
example/example2.py) writes it; only the import line and the connection arguments are changed
(`BertClient(**CONNECTION)` where bert-as-service's examples have `BertClient()` or `BertClient(ip=...)`),
and results are kept in `record` for the test to compare with the Node API's vectors.

    python readme_examples.py '{"connection": {"port": 5555}, "sentences": [...]}'

Prints one JSON object: name -> {"shape": [...], "float32": base64} for arrays, or plain JSON.
"""
import base64
import contextlib
import io
import json
import sys
import threading
import warnings

import numpy as np

from bert_embed.client import BertClient, ConcurrentBertClient

args = json.loads(sys.argv[1])
CONNECTION = args['connection']
lst_str = args['sentences']
record = {}


def keep(name, value):
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value, dtype='<f4')
        record[name] = {'shape': list(array.shape), 'dtype': str(value.dtype), 'float32': base64.b64encode(array.tobytes()).decode('ascii')}
    else:
        record[name] = value


# ---- README "3. Use Client to Get Sentence Encodes" ---------------------------------------------
bc = BertClient(**CONNECTION)
keep('getting_started', bc.encode(['First do it', 'then do it right', 'then do it better']))
keep('pair', bc.encode(['First do it ||| then do it right']))

# ---- README "Use BERT Service Remotely" (TCP only: an ip address) -------------------------------
if 'port' in CONNECTION:
    bc_remote = BertClient(ip='127.0.0.1', **CONNECTION)  # ip address of the GPU machine
    keep('remote', bc_remote.encode(['First do it', 'then do it right', 'then do it better']))
    bc_remote.close()

# ---- README "Using your own tokenizer" ----------------------------------------------------------
texts = ['hello world!', 'good day']

# a naive whitespace tokenizer
texts2 = [s.split() for s in texts]

vecs = bc.encode(texts2, is_tokenized=True)
keep('tokenized', vecs)
keep('tokenized_texts', texts2)

# ---- README: show_tokens (the server runs with --show-tokens-to-client) --------------------------
embedding, tokens = bc.encode(['hello world!', 'thisis it'], show_tokens=True)
keep('show_tokens', embedding)
keep('show_tokens_tokens', tokens)
embedding, tokens = bc.encode([['hello', 'world!'], ['thisis', 'it']], show_tokens=True, is_tokenized=True)
keep('show_tokens_tokenized', embedding)
keep('show_tokens_tokenized_tokens', tokens)

# ---- README "Asynchronous encoding" -------------------------------------------------------------
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    # an endless data stream, generating data in an extremely fast speed
    def text_gen():
        while True:
            yield lst_str  # yield a batch of text lines

    bc = BertClient(**CONNECTION)

    # get encoded vectors
    for j in bc.encode_async(text_gen(), max_num_batch=10):
        print('received %d x %d' % (j.shape[0], j.shape[1]))
keep('encode_async_printed', printed.getvalue().splitlines())

# encode_async keeps the generator's order: batches of different sentences, the first a large one that
# the server answers after the small ones (calls of at most priorityBatchSize sentences go first)
batches = [lst_str * 20] + [lst_str[i:i + 3] for i in range(0, len(lst_str), 3)]
keep('encode_async_ordered', np.concatenate([response.embedding for response in bc.encode_async(iter(batches))], axis=0))


# ---- example/example2.py: non-blocking encode, then fetch_all and fetch --------------------------
def send_without_block(bc, data, repeat=10):
    # encoding without blocking:
    print('sending all data without blocking...')
    for _ in range(repeat):
        bc.encode(data, blocking=False)
    print('all sent!')


printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    data = lst_str
    num_repeat = 20
    send_without_block(bc, data, num_repeat)
    num_expect_vecs = len(data) * num_repeat
    # then fetch all
    print('now waiting until all results are available...')
    vecs = bc.fetch_all(concat=True)
    print('received %s, expected: %d' % (vecs.shape, num_expect_vecs))
    keep('fetch_all_concat', vecs)
    # now send it again
    send_without_block(bc, data, num_repeat)
    # this time fetch them one by one, due to the async encoding and server scheduling
    # sending order is NOT preserved!
    for v in bc.fetch():
        print('received %s, shape %s' % (v.id, v.content.shape))
keep('example2_printed', printed.getvalue().splitlines())

# fetch_all(sort=True) restores the sending order of the same batches, though they are answered out of it
for batch in batches:
    bc.encode(batch, blocking=False)
keep('fetch_all_sorted', np.concatenate(bc.fetch_all(sort=True), axis=0))
keep('fetch_all_none_pending', bc.fetch_all())

# ---- README FAQ "BAD example": one BertClient shared by threads, here 8 of them -------------------
bc = BertClient(**CONNECTION)
shared = {}
failures = []


def in_thread(index):
    try:
        for round_ in range(5):
            # in Proc1/Thread1 scope:
            shared[(index, round_)] = bc.encode(lst_str[index::8])
    except Exception as error:  # reported to the test, which fails on any
        failures.append(repr(error))


threads = [threading.Thread(target=in_thread, args=(i,)) for i in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
keep('threads_failures', failures)
for index in range(8):
    for round_ in range(5):
        keep('thread_%d_%d' % (index, round_), shared[(index, round_)])
keep('threads_status', {k: (sorted(v) if isinstance(v, set) else v) for k, v in bc.status.items()})

# ---- ConcurrentBertClient, as in example/example4.py's get_encodes (without tf.data) -------------
bc = ConcurrentBertClient(max_concurrency=4, **CONNECTION)
concurrent = {}


def get_encodes(index):
    concurrent[index] = bc.encode(lst_str[index::6])


threads = [threading.Thread(target=get_encodes, args=(i,)) for i in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
for index in range(6):
    keep('concurrent_%d' % index, concurrent[index])

# ---- README "Monitoring the service status" ------------------------------------------------------
bc = BertClient(**CONNECTION)
keep('server_status', json.loads(json.dumps(bc.server_status, ensure_ascii=False)))
keep('server_config', bc.server_config)

# ---- output_fmt='list' and the context manager ---------------------------------------------------
with BertClient(output_fmt='list', **CONNECTION) as listing:
    as_list = listing.encode(['First do it', 'then do it right'])
keep('list_type', [type(as_list).__name__, type(as_list[0]).__name__, type(as_list[0][0]).__name__])
keep('list', np.asarray(as_list, dtype=np.float32))

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    keep('long_sentence', BertClient(**CONNECTION).encode([' '.join(['word'] * 40)]))
keep('long_sentence_warnings', [str(w.message) for w in caught])

print(json.dumps(record))
