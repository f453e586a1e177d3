"""A real workspace server for the system tests and benchmarks: ``pserve`` with a
copy of ``development.ini`` pointed at a data directory of its own, in a process
group of its own on a free loopback port, and a small HTTP client for it.

Nothing here waits a fixed time for the server: readiness is ``/healthz``
answering 200, polled with a generous deadline.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
START_TIMEOUT = 300  # seconds: a loaded 2-core machine can be very slow to start a server
REQUEST_TIMEOUT = 300


def die_with_parent():
    """In the child, before exec: SIGKILL it when the process that started it dies
    (Linux), so a test run that is itself killed leaves no server behind."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def write_config(directory, var_dir, **settings):
    """A copy of the project's development.ini with its data directory set to
    ``var_dir`` and ``settings`` set (e.g. the databases' URIs; in place of the
    file's own, if it has them).  :returns: its path."""
    with open(os.path.join(ROOT, 'development.ini'), encoding='utf-8') as f:
        lines = f.read().splitlines()
    added = [f'kp_workspace.var_dir = {var_dir}']
    for name, value in settings.items():
        line = f'{name} = {value}'.replace('%', '%%')
        ours = [n for n, text in enumerate(lines) if text.split('=')[0].strip() == name]
        if ours:
            lines[ours[0]] = line
        else:
            added.append(line)
    marker = lines.index('use = egg:kp_workspace')
    lines[marker + 1:marker + 1] = added
    path = os.path.join(directory, 'server.ini')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def kpw(config, *argv, timeout=600):
    """Run the ``kpw`` console script as a process.  :returns: CompletedProcess."""
    env = {**os.environ, 'PYTHONPATH': ROOT}
    env.pop('KPW_VAR_DIR', None)
    return subprocess.run([os.path.join(BIN, 'kpw'), '-c', config, *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def init_workspace(directory, **settings):
    """A data directory initialised by ``kpw init --demo-if-empty`` in ``directory``
    (its databases there, or where ``settings`` name them).
    :returns: ``(config path, data directory)``."""
    var = os.path.join(directory, 'var')
    config = write_config(directory, var, **settings)
    done = kpw(config, 'init', '--demo-if-empty')
    assert done.returncode == 0, done.stderr[-3000:]
    return config, var


class Server:
    """One ``pserve`` process -- or, with ``workers``, ``kpw serve``: a ZEO server and
    that many app processes; ``start`` again after ``kill`` to restart it on the same
    data directory (a new port each time: the old one may linger)."""

    def __init__(self, config, log_path, workers=None):
        self.config, self.log_path, self.workers = config, log_path, workers
        self.process = None
        self.port = None
        self.starts = 0

    def _command(self):
        if self.workers:
            return [os.path.join(BIN, 'kpw'), '-c', self.config, 'serve', '--workers',
                    str(self.workers), '--port', str(self.port), '--zeo-port', str(free_port())]
        return [os.path.join(BIN, 'pserve'), self.config, f'http_port={self.port}']

    def start(self, timeout=START_TIMEOUT, wait=True):
        """Start ``pserve``; with ``wait``, until /healthz answers 200."""
        assert self.process is None
        self.port = free_port()
        env = {**os.environ, 'PYTHONPATH': ROOT}
        env.pop('KPW_VAR_DIR', None)
        log = open(self.log_path, 'a')
        log.write(f'\n===== start {self.starts + 1} on port {self.port} =====\n')
        log.flush()
        self.process = subprocess.Popen(
            self._command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent)
        log.close()
        self.starts += 1
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f'the server exited with {self.process.returncode}; '
                                     f'log:\n{self.log_tail()}')
            try:
                status, body = Client(self.port, timeout=30).call('GET', '/healthz')
                if status == 200 and body.get('status') == 'ok':
                    return body
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f'the server did not answer /healthz within {timeout} s; '
                             f'log:\n{self.log_tail()}')

    def health(self):
        return Client(self.port, timeout=60).call('GET', '/healthz')[1]

    def wait_indexed(self, timeout=600):
        """Until /healthz says no scan waits to be read and no change waits for the search
        indexer (a scan read queues its text for the indexer).  :returns: its body."""
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            body = self.health()
            if (body.get('search') or {}).get('pending') == 0 \
                    and (body.get('ocr') or {}).get('waiting', 0) == 0:
                return body
            time.sleep(0.5)
        raise AssertionError(f'the indexer did not catch up within {timeout} s: {body}')

    def kill(self):
        """SIGKILL the server's process group (no clean-up of any kind)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(60)
        self.process = None

    def stop(self, timeout=120):
        """SIGINT (as Ctrl-C would), then SIGKILL if it has not ended within ``timeout``.
        :returns: its exit status."""
        if self.process is None:
            return None
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            status = self.process.wait(timeout)
        except ProcessLookupError:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            status = self.process.wait(60)
        self.process = None
        return status

    def log_text(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def log_tail(self, chars=4000):
        return self.log_text()[-chars:]


class Client:
    """One keep-alive HTTP connection (a new one after any error), with a bearer
    token for the API or a session cookie for the browser pages."""

    def __init__(self, port, timeout=REQUEST_TIMEOUT):
        self.port, self.timeout = port, timeout
        self.conn = None
        self.token = None
        self.cookies = {}
        self.retry_after = None
        self.resent = 0  # requests sent again after the server closed an idle connection

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def raw(self, method, path, body=None, headers=None):
        """:returns: ``(status, headers, bytes)``.  :raises OSError, HTTPException:
        the connection failed (the server may or may not have done the request).

        A kept-alive connection the server has closed meanwhile (its idle timeout
        ran out while this client was not scheduled, say) fails on the next request
        before the server has read it; as browsers do, that request is sent once
        more on a new connection, but only where doing it twice cannot be: the
        sending itself failed, or a GET found the connection closed."""
        headers = dict(headers or {})
        if self.token and path.startswith('/api/'):
            headers['Authorization'] = f'Bearer {self.token}'
        if self.cookies:
            headers['Cookie'] = '; '.join(f'{k}={v}' for k, v in self.cookies.items())
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                                       timeout=self.timeout)
            sent = False
            try:
                self.conn.request(method, path, body=body, headers=headers)
                sent = True
                res = self.conn.getresponse()
                data = res.read()
                break
            except (BrokenPipeError, ConnectionResetError,
                    http.client.RemoteDisconnected) as e:
                self.close()
                closed_while_idle = reused and attempt == 1 and (
                    not sent or (method == 'GET' and isinstance(
                        e, http.client.RemoteDisconnected)))
                if not closed_while_idle:
                    raise
                self.resent += 1
            except BaseException:
                self.close()
                raise
        for header, value in res.getheaders():
            if header.lower() == 'set-cookie':
                name, _, rest = value.partition('=')
                self.cookies[name.strip()] = rest.split(';', 1)[0]
        if res.getheader('Connection', '').lower() == 'close':
            self.close()
        self.retry_after = res.getheader('Retry-After')
        return res.status, res, data

    def call(self, method, path, body=None):
        """A JSON request.  :returns: ``(status, decoded JSON or None)``."""
        data = json.dumps(body).encode() if body is not None else None
        status, _res, raw = self.raw(method, path, data, {'Content-Type': 'application/json'})
        try:
            return status, (json.loads(raw) if raw else None)
        except ValueError:
            return status, {'unparsed': raw.decode('utf-8', 'replace')}

    def wait_as_told(self):
        """Sleep as long as the last answer's Retry-After said (1 to 30 s)."""
        try:
            pause = float(self.retry_after or 1)
        except ValueError:  # (an HTTP date)
            pause = 5
        time.sleep(min(30, max(1, pause)))

    def sign_in(self, login, password):
        """Take an API token (waiting as told when sign-ins are slowed down).
        :returns: it."""
        for _attempt in range(20):
            status, body = self.call('POST', '/api/v1/auth/token',
                                     {'login': login, 'password': password})
            if status != 429:
                break
            self.wait_as_told()
        assert status == 201, (status, body)
        self.token = body['token']
        return self.token

    def browser_sign_in(self, login, password):
        """Sign in through the login form (session cookie)."""
        import re
        import urllib.parse
        status, _res, page = self.raw('GET', '/login')
        assert status == 200, status
        token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({'login': login, 'password': password,
                                       'csrf_token': token, 'came_from': '/'}).encode()
        for _attempt in range(20):
            status, _res, page = self.raw('POST', '/login', form,
                                          {'Content-Type': 'application/x-www-form-urlencoded'})
            if status != 429:
                break
            self.wait_as_told()
        assert status == 303, (status, page[:500])

    def upload(self, path, filename, data, content_type='application/pdf', **fields):
        """A multipart upload in the field ``file``.  :returns: ``(status, JSON)``."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f'\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + data + b'\r\n')
        parts.append(f'--{boundary}--\r\n'.encode())
        status, _res, raw = self.raw(
            'POST', path, b''.join(parts),
            {'Content-Type': f'multipart/form-data; boundary={boundary}'})
        try:
            return status, (json.loads(raw) if raw else None)
        except ValueError:
            return status, {'unparsed': raw.decode('utf-8', 'replace')}


def small_pdf(text):
    """A valid one-page PDF (a couple of kilobytes) that says ``text``, the same bytes
    every time.  It carries text of its own: a page without any is taken for a scan and
    read by Tesseract (kp_workspace/ocr), which the tests' servers would then wait for."""
    import io
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4, invariant=1)   # (no date, no random id)
    page.setTitle(text)
    page.drawString(72, 770, text)
    page.drawString(72, 750, 'An inward letter, received and placed on the file.')
    page.save()
    return buf.getvalue()


class read_only_site:
    """``with read_only_site(config) as site:`` the workspace's Site, from its
    database opened read-only (a FileStorage takes no lock then; the server must
    not be writing)."""

    def __init__(self, config):
        self.config = config
        self.db = self.conn = None

    def __enter__(self):
        from pyramid.paster import get_appsettings
        from ZODB import DB
        from kp_workspace.databases import resolve_uri
        from kp_workspace.settings import read_settings
        from kp_workspace.site import ROOT_KEY
        settings = get_appsettings(self.config)
        read_settings(settings.global_conf, settings)
        uri = settings['zodbconn.uri']
        uri += ('&' if '?' in uri else '?') + 'read_only=1'
        factory, dbkw = resolve_uri(uri)
        self.db = DB(factory(), **dbkw)
        self.conn = self.db.open()
        return self.conn.root()[ROOT_KEY]

    def __exit__(self, *exc):
        self.conn.transaction_manager.abort()
        self.conn.close()
        self.db.close()
