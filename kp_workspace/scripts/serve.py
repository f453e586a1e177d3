"""``kpw serve``: several app processes on one machine sharing one database.

One Python process uses one core.  On a data directory's FileStorages this starts a
ZEO server on them (``Data.fs`` with its blobs, ``Audit.fs``: the same files ``make
run`` uses, so a workspace can move between the two), then gunicorn with
``--workers`` app processes on one address, each with a few threads; every process
opens the database through ZEO (blobs in the shared blob directory).  When the
configuration names a database server already (RelStorage on PostgreSQL, or a ZEO
server elsewhere), there is nothing to start but gunicorn on that configuration
(:func:`serve_shared`).  Either way every process reads the one search index in the
data directory, and one of them indexes: the holder of the indexer lock, which
another takes over if it stops.  Sign-in and PIN throttles, counters and sessions
live in the database, so no process keeps a rule of its own.

On Ctrl-C or SIGTERM the workers finish their requests, then the ZEO server stops.
"""
import os
import signal
import socket
import subprocess
import sys
import time

ZEO_START_SECONDS = 60


def bin_path(name):
    """A program of this environment (runzeo, gunicorn): beside this Python."""
    return os.path.join(os.path.dirname(sys.executable), name)


def write_zeo_conf(folder, loc, port):
    """The ZEO server's configuration: the FileStorages ``loc`` names (the data
    directory's), on ``port`` of the loopback address."""
    main, audit, blobs = loc.storages['main'], loc.storages['audit'], loc.blobs
    path = os.path.join(folder, 'zeo.conf')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(f"""# written by kpw serve: the data directory's storages, served to its processes
<zeo>
  address 127.0.0.1:{port}
</zeo>
<filestorage 1>
  path {main}
  blob-dir {blobs}
</filestorage>
<filestorage audit>
  path {audit}
</filestorage>
<eventlog>
  <logfile>
    path {folder}/zeo.log
  </logfile>
</eventlog>
""")
    return path


def zeo_settings(loc, port):
    """The app settings that open both databases through the ZEO server on ``port``."""
    return {
        'kp_workspace.var_dir': loc.var_dir,
        'zodbconn.uri': f'zeo://127.0.0.1:{port}?storage=1&blob_dir={loc.blobs}'
                        '&shared_blob_dir=true&cache_size=50MB',
        'zodbconn.uri.audit': f'zeo://127.0.0.1:{port}?storage=audit',
    }


def write_app_ini(folder, config, settings):
    """An .ini whose app is ``config``'s, with ``settings`` put over it."""
    path = os.path.join(folder, 'app.ini')
    lines = ['# written by kpw serve', '[app:main]', f'use = config:{config}#main']
    lines += [f'{k} = {v}' for k, v in settings.items()]
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def wait_for_port(port, process, what, seconds=ZEO_START_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f'{what} stopped at start (exit {process.returncode})')
            if time.monotonic() > deadline:
                raise RuntimeError(f'{what} did not start within {seconds} s')
            time.sleep(0.1)


def start_gunicorn(ini, workers, port, threads):
    """gunicorn serving the app of ``ini`` with ``workers`` processes of ``threads``
    threads each on ``port`` of the loopback address.  :returns: its process."""
    return subprocess.Popen([
        bin_path('gunicorn'), '--paste', ini, '--bind', f'127.0.0.1:{port}',
        '--workers', str(workers), '--threads', str(threads), '--worker-class', 'gthread',
        '--graceful-timeout', '30', '--timeout', '120', '--no-control-socket',
        # (gunicorn closes a kept-alive connection idle for 2 s by default: a client that
        # was busy or not scheduled then finds it closed; 75 s, as browsers and proxies
        # expect of a server)
        '--keep-alive', '75'])


def serve(config, loc, workers, port, zeo_port, threads=4, out=sys.stdout):
    """Run the ZEO server and the app processes on the data locations ``loc`` (see
    :func:`kp_workspace.backup.locations`) until told to stop.  :returns: exit status."""
    folder = os.path.join(loc.var_dir, 'zeo')
    os.makedirs(folder, exist_ok=True)
    zeo = subprocess.Popen([bin_path('runzeo'), '-C', write_zeo_conf(folder, loc, zeo_port)])

    def launch():
        wait_for_port(zeo_port, zeo, 'The ZEO server')
        ini = write_app_ini(folder, os.path.abspath(config), zeo_settings(loc, zeo_port))
        return start_gunicorn(ini, workers, port, threads)
    return _run_until_stopped(
        launch, [zeo], out, f'Serving on http://127.0.0.1:{port} with {workers} processes '
                            f'through ZEO (127.0.0.1:{zeo_port}); Ctrl-C stops them.')


def serve_shared(config, storage, workers, port, threads=4, out=sys.stdout):
    """Run the app processes of ``config``, whose databases a server shares already
    (``storage`` names it in the message: PostgreSQL, a ZEO server), until told to
    stop.  :returns: exit status."""
    return _run_until_stopped(
        lambda: start_gunicorn(os.path.abspath(config), workers, port, threads), [], out,
        f'Serving on http://127.0.0.1:{port} with {workers} processes sharing the database '
        f'through {storage}; Ctrl-C stops them.')


def _run_until_stopped(launch, servers, out, message):
    """Start the app's process with ``launch``, say ``message``, and wait for it; on
    Ctrl-C or SIGTERM stop it, then the ``servers`` it used.  :returns: exit status."""
    app = None

    def stop(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        app = launch()
        print(message, file=out, flush=True)
        return app.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        for process in (app, *servers):  # the workers first: they still use the database
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
