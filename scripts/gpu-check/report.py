#!/usr/bin/env python3
"""The bookkeeping of scripts/gpu-check.sh: one small JSON file per step, and the one report.

  report.py step RUN_DIR NAME STATUS SECONDS [--detail FILE] [--log NAME]
      writes RUN_DIR/steps/NAME.json; STATUS is 'pass', 'fail: why' or 'skipped: why'; --detail
      names a JSON file whose object goes into the step as "detail".
  report.py env RUN_DIR
      prints torch's view of the machine as JSON (imports torch: seconds for a CUDA torch).
  report.py tests VITEST_JSON HAS_CUDA
      summarizes vitest's JSON report: counts, each test's status, and which CUDA-only tests ran.
  report.py get FILE KEY[.KEY...] [DEFAULT]
      prints one value of a JSON file (DEFAULT, or nothing, when it is missing).
  report.py tests-status TESTS_JSON HAS_CUDA RC NO_CUDA
      the tests step's status line from `tests`' summary and vitest's exit code.
  report.py bench-status BENCH_JSON HAS_CUDA RC NO_CUDA
      two lines: the bench step's status and the two_workers step's.
  report.py assemble RUN_DIR OUT_FILE
      merges the steps, the environment and the bench's figures into OUT_FILE and prints a summary.

Plain Python 3 with no imports beyond the standard library (except `env`, which imports torch).
"""

import glob
import json
import os
import re
import sys
import time


def read_json(path, default=None):
    try:
        with open(path, encoding='utf8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def write_json(path, value):
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf8') as f:
        json.dump(value, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


def step(argv):
    run_dir, name, status, seconds = argv[:4]
    rest = argv[4:]
    entry = {'status': status, 'seconds': round(float(seconds), 1)}
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag == '--detail':
            detail = read_json(value)
            entry['detail'] = detail if detail is not None else f'(no JSON in {os.path.basename(value)})'
        elif flag == '--log':
            entry['log'] = value
    os.makedirs(os.path.join(run_dir, 'steps'), exist_ok=True)
    entry['order'] = len(glob.glob(os.path.join(run_dir, 'steps', '*.json')))
    previous = read_json(os.path.join(run_dir, 'steps', f'{name}.json'))
    if previous is not None:
        entry['order'] = previous.get('order', entry['order'])
    write_json(os.path.join(run_dir, 'steps', f'{name}.json'), entry)


def tool_version(command):
    import subprocess
    try:
        r = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f'unavailable ({type(error).__name__})'
    lines = [l.strip() for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    if r.returncode != 0:
        return f'exit {r.returncode}: {lines[-1] if lines else ""}'
    return lines[-1] if command[0] == 'nvcc' and lines else (lines[0] if lines else '')


def env(argv):
    info = {'python': sys.executable, 'python_version': sys.version.split()[0]}
    tools = {
        'nvidia_smi': tool_version(['nvidia-smi', '--query-gpu=name,driver_version,memory.total,clocks.max.sm', '--format=csv,noheader']),
        'nvcc': tool_version(['nvcc', '--version']),
        'cmake': tool_version(['cmake', '--version']),
        'ninja': tool_version(['ninja', '--version']),
        'cxx': tool_version(['c++', '--version']),
        'glibc': tool_version(['ldd', '--version']),
        'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), None)
        if os.path.exists('/proc/cpuinfo') else None,
        'cores': os.cpu_count(),
        'cuda_home': os.environ.get('CUDA_HOME') or ('/usr/local/cuda' if os.path.isdir('/usr/local/cuda') else None),
    }
    print(json.dumps({'tools': tools}), file=sys.stderr)
    import torch
    import torch.utils
    info['torch'] = torch.__version__
    info['torch_cuda'] = torch.version.cuda
    info['torch_cmake_prefix'] = torch.utils.cmake_prefix_path
    info['torch_dir'] = os.path.dirname(torch.__file__)
    info['cuda_available'] = torch.cuda.is_available()
    info['cuda_device_count'] = torch.cuda.device_count() if info['cuda_available'] else 0
    if info['cuda_device_count']:
        p = torch.cuda.get_device_properties(0)
        info['gpu'] = {'name': p.name, 'capability': f'{p.major}.{p.minor}', 'memory_gib': round(p.total_memory / 2**30, 1),
                       'multiprocessors': p.multi_processor_count}
        info['cudnn'] = torch.backends.cudnn.version()
    for module in ('transformers', 'sentence_transformers'):
        try:
            info[module] = __import__(module).__version__
        except Exception as error:  # reported, not fatal: the bench's peer has a fallback
            info[module] = f'missing ({type(error).__name__})'
    print(json.dumps({'torch': info, 'tools': tools}))


def tests(argv):
    report_file, has_cuda = argv[0], argv[1] == '1'
    report = read_json(report_file)
    if report is None:
        print(json.dumps({'error': f'no vitest JSON report at {report_file}'}))
        return
    cases = []
    for file in report.get('testResults', []):
        for t in file.get('assertionResults', []):
            cases.append({'file': os.path.relpath(file.get('name', ''), os.getcwd()), 'name': t.get('fullName'), 'status': t.get('status'),
                          'ms': round(t.get('duration') or 0), 'failure': (t.get('failureMessages') or [None])[0]})
    # The tests that need a device: their full names say 'on CUDA' (describe 'on CUDA' in dtypes.test.ts,
    # 'gpuMemoryFraction on CUDA …'); 'is refused on CUDA' runs everywhere.
    cuda_only = [c for c in cases if re.search(r'(^|\s)on CUDA\b', c['name'] or '') and 'refused on CUDA' not in c['name']]
    summary = {
        'passed': sum(c['status'] == 'passed' for c in cases),
        'failed': sum(c['status'] == 'failed' for c in cases),
        'skipped': sum(c['status'] in ('skipped', 'pending', 'todo') for c in cases),
        'cuda_only_ran': sum(c['status'] in ('passed', 'failed') for c in cuda_only),
        'cuda_only_passed': sum(c['status'] == 'passed' for c in cuda_only),
        'cuda_only_total': len(cuda_only),
        'tests': [{k: v for k, v in c.items() if v is not None} for c in cases if c['status'] != 'skipped' or c in cuda_only],
    }
    summary['filtered_out'] = len(cases) - len(summary['tests'])
    print(json.dumps(summary))


def get(argv):
    value = read_json(argv[0])
    for key in argv[1].split('.'):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        value = argv[2] if len(argv) > 2 else ''
    print(json.dumps(value) if isinstance(value, (dict, list, bool)) else value)


def exit_reason(rc):
    return {124: 'out of time', 137: 'out of time (killed)', 125: 'deadline reached before it started'}.get(rc, f'exit {rc}')


def tests_status(argv):
    summary, has_cuda, rc, no_cuda = read_json(argv[0]), argv[1] == '1', int(argv[2]), argv[3]
    if not summary or 'passed' not in summary:
        print(f'fail: vitest ({exit_reason(rc)}) left no JSON report; see tests.log')
        return
    counts = (f"{summary['passed']} passed, {summary['failed']} failed, "
              f"{summary['cuda_only_ran']} of {summary['cuda_only_total']} CUDA-only tests ran")
    if rc != 0:
        print(f'fail: vitest ({exit_reason(rc)}): {counts}')
    elif has_cuda and not (summary['cuda_only_total'] > 0 and summary['cuda_only_passed'] == summary['cuda_only_total']):
        print(f'fail: not every CUDA-only test ran and passed: {counts}')
    elif has_cuda:
        print(f'pass: {counts}')
    else:
        print(f'{no_cuda}; what runs without one passed: {counts}')


def bench_status(argv):
    bench, has_cuda, rc, no_cuda = read_json(argv[0]), argv[1] == '1', int(argv[2]), argv[3]
    plumbing = "the bench's code run on the CPU instead (64 sentences; its figures mean nothing)"
    if not bench:
        line = f'fail: bench.mjs ({exit_reason(rc)}) left no figures; see bench.log'
        print(line if has_cuda else line.replace('fail: ', f'fail: {plumbing}: '))
        print(line if has_cuda else line.replace('fail: ', f'fail: {plumbing}: '))
        return
    failures = [f for f in bench.get('failures', []) if not f.startswith('two workers')]
    if rc != 0 and not bench.get('failures'):
        failures.append(f'bench.mjs {exit_reason(rc)}')
    figures = []
    for dtype, entry in (bench.get('ours') or {}).items():
        if 'sentencesPerSecond' in entry:
            figures.append(f"{dtype} {entry['sentencesPerSecond']}/s")
    if failures:
        line = 'fail: ' + '; '.join(failures)[:400]
    else:
        line = 'pass: ours ' + ', '.join(figures)
    workers = bench.get('twoWorkers') or {}
    worker_failures = [f for f in bench.get('failures', []) if f.startswith('two workers')]
    if worker_failures:
        wline = 'fail: ' + '; '.join(worker_failures)[:400]
    elif workers.get('twoWorkers'):
        wline = (f"pass: {workers['oneWorker']['sentencesPerSecond']} -> {workers['twoWorkers']['sentencesPerSecond']} "
                 f"sentences/s ({workers['dtype']}, x{workers['speedup']})")
    else:
        wline = 'fail: not reached' + (f' (bench.mjs {exit_reason(rc)})' if rc else '')
    if not has_cuda:
        # A failure is the code's and says so; a pass is still no GPU figure.
        line = f'fail: {plumbing}: {line[6:]}' if line.startswith('fail') else f'{no_cuda}; {plumbing} passed'
        wline = f'fail: {plumbing}: {wline[6:]}' if wline.startswith('fail') else f'{no_cuda}; {plumbing} passed: {wline[6:]}'
    print(line)
    print(wline)


def assemble(argv):
    run_dir, out_file = argv
    steps = {}
    for path in sorted(glob.glob(os.path.join(run_dir, 'steps', '*.json'))):
        steps[os.path.basename(path)[:-5]] = read_json(path, {'status': 'fail: unreadable step file'})
    steps = dict(sorted(steps.items(), key=lambda kv: kv[1].get('order', 0)))
    for entry in steps.values():
        entry.pop('order', None)
    prepared = read_json(os.path.join(run_dir, 'prepared.json'), {})
    env_detail = (steps.get('env') or {}).get('detail') or {}
    bench = read_json(os.path.join(run_dir, 'bench.json'))
    report = {
        'script': 'scripts/gpu-check.sh',
        'finished_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'seconds': round(float(os.environ.get('GPU_CHECK_ELAPSED', '0')), 1),
        'prepared': prepared,
        'gpu': (env_detail.get('torch') or {}).get('gpu') or 'no CUDA device',
        'nvidia_smi': (env_detail.get('tools') or {}).get('nvidia_smi'),
        'torch': {k: (env_detail.get('torch') or {}).get(k) for k in ('torch', 'torch_cuda', 'cudnn', 'transformers', 'sentence_transformers')},
        'ok': all(not str(s.get('status', '')).startswith('fail') for s in steps.values()),
        'steps': steps,
        'figures': bench,
    }
    write_json(out_file, report)
    width = max((len(k) for k in steps), default=4)
    lines = [f'gpu-check: {"ok" if report["ok"] else "FAILED"} in {report["seconds"]} s; {out_file}']
    gpu = report['gpu']
    lines.append(f'  gpu: {gpu["name"] if isinstance(gpu, dict) else gpu}; torch {report["torch"]["torch"]} (CUDA {report["torch"]["torch_cuda"]})')
    for name, s in steps.items():
        lines.append(f'  {name.ljust(width)}  {s.get("seconds", 0):6.1f} s  {s.get("status")}')
    print('\n'.join(lines))


if __name__ == '__main__':
    commands = {'step': step, 'env': env, 'tests': tests, 'get': get, 'tests-status': tests_status, 'bench-status': bench_status,
                'assemble': assemble}
    commands[sys.argv[1]](sys.argv[2:])
