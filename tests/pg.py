"""A private PostgreSQL cluster for the tests: made in a temporary folder, listening
on a free loopback port, stopped and removed at the end.

Debian's server (``make test`` installs the ``postgresql`` package) is used from
``/usr/lib/postgresql/<version>/bin``; its own cluster is never touched.  ``initdb``
refuses to run as root, so as root the cluster belongs to the ``postgres`` user and
every server command runs as that user.  Connections are trusted (loopback only, a
throwaway cluster): the URIs carry the ``postgres`` user and no password.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

START_SECONDS = 60


def server_bin(name):
    """A program of Debian's newest PostgreSQL server, or None when none is installed."""
    found = sorted(glob.glob(f'/usr/lib/postgresql/*/bin/{name}'),
                   key=lambda p: int(p.split('/')[4]) if p.split('/')[4].isdigit() else 0)
    return found[-1] if found else None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Cluster:
    """``Cluster().start()``; ``uri(name)`` of a new database; ``stop()``."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix='kpw-pg-')
        self.data = os.path.join(self.folder, 'data')
        self.port = free_port()
        self.host = '127.0.0.1'
        self.user = 'postgres'
        self._as = None  # the system user the server runs as, when we are root
        self.started = False

    def _run(self, args, **kw):
        if self._as is not None:
            args = ['runuser', '-u', self._as, '--'] + args
        return subprocess.run(args, capture_output=True, text=True, timeout=START_SECONDS,
                              **kw)

    def start(self):
        initdb, pg_ctl = server_bin('initdb'), server_bin('pg_ctl')
        if initdb is None:
            raise RuntimeError('PostgreSQL is not installed: run the suite through `make test`, '
                               "which installs Debian's postgresql package.")
        if os.getuid() == 0:
            self._as = 'postgres'
            owner = pwd.getpwnam('postgres')
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        done = self._run([initdb, '-D', self.data, '-U', self.user, '--auth=trust',
                          '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'])
        if done.returncode:
            raise RuntimeError(f'initdb failed: {done.stderr or done.stdout}')
        options = (f'-c listen_addresses={self.host} -c port={self.port} '
                   f'-c unix_socket_directories={self.folder} -c fsync=off '
                   '-c synchronous_commit=off -c full_page_writes=off '
                   '-c max_connections=200 -c shared_buffers=64MB')
        done = self._run([pg_ctl, '-D', self.data, '-o', options, '-l',
                          os.path.join(self.folder, 'server.log'), '-w',
                          '-t', str(START_SECONDS), 'start'])
        if done.returncode:
            raise RuntimeError(f'PostgreSQL did not start: {done.stderr or done.stdout}\n'
                               + self.log())
        self.started = True
        return self

    def log(self):
        try:
            with open(os.path.join(self.folder, 'server.log'), encoding='utf-8',
                      errors='replace') as f:
                return f.read()[-4000:]
        except OSError:
            return ''

    def psql(self, sql, database='postgres'):
        """Run ``sql`` with psql; :returns: its output.  :raises RuntimeError: on failure."""
        psql = server_bin('psql') or shutil.which('psql')
        done = subprocess.run([psql, '-h', self.host, '-p', str(self.port), '-U', self.user,
                               '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql],
                              capture_output=True, text=True, timeout=START_SECONDS)
        if done.returncode:
            raise RuntimeError(f'psql: {done.stderr}')
        return done.stdout

    def create_database(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def dsn(self, name):
        """A libpq connection string for database ``name``."""
        return f'host={self.host} port={self.port} user={self.user} dbname={name}'

    def uri(self, name):
        """A ``postgres://`` URI (as ``zodbconn.uri`` and our settings take it)."""
        return f'postgres://{self.user}@{self.host}:{self.port}/{name}'

    def stop(self):
        if self.started:
            self._run([server_bin('pg_ctl'), '-D', self.data, '-m', 'immediate', '-w',
                       'stop'])
            self.started = False
        for _attempt in range(10):
            try:
                shutil.rmtree(self.folder)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.2)
