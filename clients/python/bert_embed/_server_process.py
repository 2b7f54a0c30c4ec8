"""A private ``bert-embed serve`` on a UNIX socket, owned by this process: started, waited for until
GET /health answers, and stopped. It dies with its owner even when the owner is SIGKILLed (Linux's
PR_SET_PDEATHSIG), so a killed Ray actor leaves no server behind."""
import collections
import ctypes
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from ._transport import Transport
from .errors import BertEmbedError, ServerConnectionError, ServerError

_PR_SET_PDEATHSIG = 1
# sockaddr_un.sun_path holds 108 bytes, the last one a NUL
_MAX_SOCKET_PATH_BYTES = 107
_STDERR_TAIL_LINES = 20
# SIGTERM lets the server finish requests in flight; past this, it is killed
_STOP_GRACE_S = 10.0
_HEALTH_POLL_S = (0.02, 0.25)

try:  # looked up before any fork: the child must run as little Python as possible
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith('linux') else None
except (OSError, AttributeError):
    _prctl = None


class ServerStartError(BertEmbedError, RuntimeError):
    """``bert-embed serve`` could not be found, exited before it was ready, or did not answer
    GET /health in time. The message names the model, the command and the server's last stderr lines."""

    def __init__(self, message, code='ERR_SERVER_START'):
        super().__init__(message, code)

    def __reduce__(self):  # Ray ships an actor's __init__ error to the driver by pickling it
        return type(self), (str(self), self.code)


def serve_command():
    """The command that runs bert-embed: ``BERT_EMBED_BIN`` (a path, or a command line such as
    ``node /opt/bert-embed/bin/bert-embed.js``), else ``bert-embed`` on PATH."""
    configured = os.environ.get('BERT_EMBED_BIN', '').strip()
    if configured:
        if os.path.isfile(configured):
            return [os.path.abspath(configured)]
        argv = shlex.split(configured)
        found = shutil.which(argv[0])
        if found is None:
            raise ServerStartError('Expected an executable file or command for BERT_EMBED_BIN but received %r, which '
                                   'is neither a file nor a command on PATH' % configured, 'ERR_NO_COMMAND')
        return [found] + argv[1:]
    found = shutil.which('bert-embed')
    if found is None:
        raise ServerStartError('bert-embed is not on PATH and BERT_EMBED_BIN is not set: install the npm package '
                               'bert-embed-native on this node (npm install -g bert-embed-native), or set BERT_EMBED_BIN '
                               'to its bin/bert-embed.js', 'ERR_NO_COMMAND')
    return [found]


def _die_with_parent(parent_pid):
    """Runs in the child between fork and exec: SIGKILL it when the thread that forked it ends."""
    if _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        os._exit(127)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(127)


class ServerProcess(object):
    """``<command> serve -m MODEL --socket <private dir>/bert.sock <flags>``, ready on return.

    The fork happens on a thread of its own that lives exactly as long as the server (it reads the
    server's stderr, then reaps it): PR_SET_PDEATHSIG fires when the *forking thread* ends, so forking
    on a caller's thread (a Ray task thread, a thread pool) could kill the server when that thread
    is recycled. The server gets SIGKILL when its owner dies: nobody is left to read its answers."""

    def __init__(self, model, flags, startup_timeout_s):
        self.model = model
        self.argv = None
        self.process = None
        self._tail = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._dir = _private_dir()
        self.socket = os.path.join(self._dir, 'bert.sock')
        self._reader = None
        try:
            self.argv = serve_command() + ['serve', '-m', model, '--socket', self.socket] + list(flags)
            self._spawn()
            self._wait_until_healthy(startup_timeout_s)
        except BaseException:
            self.stop()
            raise

    @property
    def command(self):
        return shlex.join(self.argv) if self.argv else '(none)'

    def stop(self):
        """SIGTERM (the server finishes requests in flight), SIGKILL after a grace period; removes the socket's directory."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(_STOP_GRACE_S)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _spawn(self):
        started = threading.Event()
        failure = []

        def run():
            try:
                self.process = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    preexec_fn=None if _prctl is None else (lambda parent=os.getpid(): _die_with_parent(parent)))
            except OSError as error:
                failure.append(error)
                return
            finally:
                started.set()
            # The server's log goes on to this process's stderr (a Ray actor's log), its tail kept for errors.
            for line in self.process.stderr:
                text = line.decode('utf-8', 'replace').rstrip()
                self._tail.append(text)
                try:
                    sys.stderr.write(text + '\n')
                except (OSError, ValueError):
                    pass
            self.process.wait()

        self._reader = threading.Thread(target=run, name='bert-embed serve %s' % self.model, daemon=True)
        self._reader.start()
        started.wait()
        if failure:
            raise ServerStartError('could not run bert-embed serve for model %r (%s)\n  command: %s' % (self.model, failure[0], self.command))

    def _wait_until_healthy(self, timeout_s):
        probe = Transport('localhost', 0, self.socket, connect_timeout_s=1.0)
        deadline = time.monotonic() + timeout_s
        pause = _HEALTH_POLL_S[0]
        try:
            while True:
                if self.process.poll() is not None:
                    self._reader.join(2.0)  # the last stderr lines say why
                    raise self._error('exited with code %d before it was ready' % self.process.returncode)
                try:
                    probe.request('GET', '/health', timeout_s=max(0.1, min(5.0, deadline - time.monotonic())))
                    return
                except (ServerConnectionError, ServerError):
                    pass  # not listening yet, or 503 while the model loads
                if time.monotonic() >= deadline:
                    raise self._error('did not answer GET /health within %g s (startup_timeout); it was stopped' % timeout_s)
                time.sleep(pause)
                pause = min(pause * 2, _HEALTH_POLL_S[1])
        finally:
            probe.close()

    def _error(self, what):
        tail = '\n'.join('    ' + line for line in self._tail) or '    (nothing)'
        return ServerStartError('bert-embed serve for model %r %s\n  command: %s\n  its last stderr lines:\n%s' % (self.model, what, self.command, tail))


def _private_dir():
    """A new directory only this user may enter, short enough for a socket path inside it."""
    base = tempfile.gettempdir()
    if len(os.path.join(base, 'bert-embed-XXXXXXXX', 'bert.sock').encode()) > _MAX_SOCKET_PATH_BYTES:
        base = '/tmp'
    return tempfile.mkdtemp(prefix='bert-embed-', dir=base)
