"""``kpw backup`` and ``kpw restore``: copies of a data directory taken while the
server runs, and their recovery into an empty data directory.

A backup directory holds::

    KPW-BACKUP          marks it as a kpw backup (and its format)
    main/               repozo repository of the main database (Data.fs)
    audit/              repozo repository of the audit database (Audit.fs)
    blobs/              blob files, laid out as in the data directory
    keys/               secret.key, one file per secret (mode 0600)
    runs/TIME.json      one manifest per run: its time, the generation, what it
                        copied (with SHA-256 checksums), sizes, where each
                        database was cut

The first run makes full repozo backups; later runs into the same directory
add repozo increments and copy only blob files not copied before (a blob file
never changes once committed: its name carries the transaction id).

A run is consistent with a server writing alongside because of its order:

1. the main database is cut first: repozo copies it up to its last committed
   transaction, the *cut*;
2. then the audit database.  Both databases commit in one two-phase
   transaction, and the audit storage finishes first (storages finish in the
   order of their file names: Audit.fs before Data.fs), so every action in the
   copied main database has its audit entry in the copied audit database.  (With
   paths that sort the other way, the two finish microseconds apart, and the
   audit cut is taken only after the whole main copy.)  The audit copy may also
   hold the entries of a few actions committed after the main cut;
3. then the blob files: a committed transaction's blob files are in place before
   it commits, so every blob the copied main database refers to is there.  Files
   of transactions after the cut (or still in flight) are left for the next run,
   so a run's blobs are exactly those of its cut;
4. then the secret, and last the manifest: a run without a manifest (it
   stopped half way) is not offered for restore, and the next run completes it.

The search index is not copied (it would not match the cut); a restore
rebuilds it from the restored database.
"""
import datetime
import hashlib
import hmac
import json
import os
import shutil
import struct
import time
import urllib.parse
from dataclasses import dataclass

from pyramid.paster import get_appsettings
from ZODB import DB
from ZODB.FileStorage import FileStorage
from ZODB.scripts import repozo
from ZODB.TimeStamp import TimeStamp
from zc.lockfile import LockError, LockFile

from .errors import DomainError
from .settings import PREFIX, SECRET_FILE, read_settings

FORMAT = 1
MARKER = 'KPW-BACKUP'
DATABASES = (('main', 'Data.fs'), ('audit', 'Audit.fs'))  # cut in this order
NOTE = 'RESTORED.txt'
_PLACEHOLDER = '-' * 32  # (so that reading the settings creates no secret.key)


class BackupError(DomainError):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Locations:
    """Where a deployment keeps its data, from its .ini file."""

    var_dir: str
    storages: dict        # database name ('main', 'audit') -> FileStorage path
    blobs: str            # blob directory of the main database ('' when it has none)
    secret: str           # the secret set in the .ini file, or '' (then secret.key)

    @property
    def secret_file(self):
        return os.path.join(self.var_dir, SECRET_FILE)


# Where a database that kpw backup cannot copy is backed up instead, by zodburi scheme.
ELSEWHERE = {
    'postgres': 'RelStorage on PostgreSQL: back up both PostgreSQL databases with pg_dump '
                '(the main one first, then the audit one) and restore them with pg_restore, '
                'then run kpw reindex',
    'zeo': 'ZEO: back up the ZEO server\'s FileStorages and blob directory on its machine '
           '(kpw backup there, with a configuration whose data directory holds them)',
}


def _file_storage(uri, what):
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != 'file':
        instead = ELSEWHERE.get(parts.scheme, 'another storage: use the tools of that storage')
        raise BackupError(
            f'{what} is not a FileStorage ({parts.scheme}://...): kpw backup and kpw restore '
            f'copy the FileStorages of a data directory only. For {instead}. Keep a copy of '
            'the secret (secret.key in the data directory, or kp_workspace.secret) with '
            'it: it unlocks the signing keys.')
    query = urllib.parse.parse_qs(parts.query)
    return (urllib.parse.unquote(parts.netloc + parts.path),
            (query.get('blobstorage_dir') or [''])[0])


def locations(config):
    """The data locations named by the .ini file ``config``.

    :raises BackupError: when a database is not a FileStorage.
    """
    settings = get_appsettings(config)
    secret = settings.get(PREFIX + 'secret') or ''
    completed = {**settings, PREFIX + 'secret': secret or _PLACEHOLDER}
    # read_settings creates the data directory and its blobs/: this reads only
    here = settings.global_conf.get('here') or os.getcwd()
    var_dir = os.path.abspath(os.environ.get('KPW_VAR_DIR') or settings.get(PREFIX + 'var_dir')
                              or os.path.join(here, 'var'))
    missing = [p for p in (os.path.join(var_dir, 'blobs'), var_dir) if not os.path.exists(p)]
    read_settings(settings.global_conf, completed)
    for path in missing:
        if os.path.isdir(path):
            os.rmdir(path)
    main, blobs = _file_storage(completed['zodbconn.uri'], 'zodbconn.uri')
    audit, _ = _file_storage(completed['zodbconn.uri.audit'], 'zodbconn.uri.audit')
    return Locations(completed[PREFIX + 'var_dir'],
                     {'main': main, 'audit': audit}, blobs, secret)


def fingerprint(secret):
    """A short value that tells secrets apart without giving them away."""
    return hmac.new(secret.encode(), b'kp-workspace backup', hashlib.sha256).hexdigest()[:16]


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source, target, mode=None):
    """Copy ``source`` to ``target`` through a temporary file renamed into place,
    so ``target`` is never seen half written.  :returns: the SHA-256 of the bytes."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = f'{target}.part'
    digest = hashlib.sha256()
    with open(source, 'rb') as src, open(temp, 'wb') as dst:
        if mode is not None:
            os.chmod(temp, mode)
        for chunk in iter(lambda: src.read(1 << 20), b''):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(temp, target)
    return digest.hexdigest()


def _write_json(path, data):
    temp = f'{path}.part'
    with open(temp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    _fsync_dir(os.path.dirname(path))


def tid_time(tid_hex):
    """The commit time (ISO, UTC) of a transaction id given in hex."""
    stamp = TimeStamp(bytes.fromhex(tid_hex))
    moment = datetime.datetime.fromtimestamp(stamp.timeTime(), datetime.timezone.utc)
    return _iso(moment)


# --- repozo ---------------------------------------------------------------------------------

def _repozo_files(repository):
    return sorted(f for f in os.listdir(repository) if repozo.is_data_file(f))


def _last_tid(path):
    """The id (hex) of the last transaction in a repozo data file (full or increment),
    read from its tail: a FileStorage transaction ends with its length."""
    with open(path, 'rb') as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size < 8 + 23:
            return None  # (a storage with no transaction yet: its magic number only)
        f.seek(size - 8)
        tlen, = struct.unpack('>Q', f.read(8))
        start = size - 8 - tlen
        if start < 0:
            raise BackupError(f'{path} does not end with a whole transaction.')
        f.seek(start)
        tid, tlen_again = struct.unpack('>8sQ', f.read(16))
        if tlen_again != tlen:
            raise BackupError(f'{path} does not end with a whole transaction.')
        return tid.hex()


def _wait_for_a_new_second(repository):
    """repozo names its files by the second: never let two runs share one."""
    while True:
        files = _repozo_files(repository)
        now = time.strftime('%Y-%m-%d-%H-%M-%S', time.gmtime())
        if not files or os.path.splitext(files[-1])[0] < now:
            return
        if os.path.splitext(files[-1])[0] > now:
            raise BackupError(f'The newest file in {repository} ({files[-1]}) is dated after '
                              'now: has the clock been set back? Start a new backup directory.')
        time.sleep(0.2)


def _drop_unlisted(repository):
    """Remove data files no ``.dat`` lists: a run stopped between writing one
    and listing it, and recovering with it would repeat its bytes."""
    listed = set()
    for name in os.listdir(repository):
        if name.endswith('.dat'):
            with open(os.path.join(repository, name), encoding='utf-8') as f:
                listed.update(os.path.basename(line.split()[0]) for line in f if line.strip())
    for name in _repozo_files(repository):
        if name not in listed:
            for path in (name, os.path.splitext(name)[0] + '.index'):
                if os.path.exists(os.path.join(repository, path)):
                    os.remove(os.path.join(repository, path))


def _repozo_backup(source, repository, full):
    """One repozo run.  :returns: ``(kind, new files, repozo date, last tid)``."""
    os.makedirs(repository, exist_ok=True)
    _drop_unlisted(repository)
    _wait_for_a_new_second(repository)
    before = set(os.listdir(repository))
    argv = ['-B', '-Q', '-f', source, '-r', repository] + (['-F'] if full else [])
    try:
        repozo.do_backup(repozo.parseargs(argv))
    except (repozo.RepozoError, OSError) as e:
        raise BackupError(f'repozo could not back up {source}: {e}')
    files = _repozo_files(repository)  # (at least the full one it wrote)
    new = sorted(set(os.listdir(repository)) - before)
    data = [f for f in new if repozo.is_data_file(f)]
    if not data:
        kind = 'unchanged'
    else:
        kind = 'full' if data[-1].endswith('.fs') else 'incremental'
    # the newest data file ends at the cut; older ones were cut before
    last = next((t for t in (_last_tid(os.path.join(repository, f)) for f in reversed(files))
                 if t), None)
    return kind, new, os.path.splitext(files[-1])[0], last


def _open_at(path, tid_hex):
    """A read-only database on the FileStorage at ``path`` and a connection that
    sees it as of transaction ``tid_hex``."""
    db = DB(FileStorage(path, read_only=True))
    before = struct.pack('>Q', int(tid_hex, 16) + 1)
    return db, db.open(before=before)


def _facts_at(name, path, tid_hex):
    """What a manifest says about a database at its cut (a generation, a count)."""
    if tid_hex is None:
        return {}
    from .audit import ROOT_KEY as AUDIT_KEY
    from .site import ROOT_KEY
    db, conn = _open_at(path, tid_hex)
    try:
        root = conn.root()
        if name == 'main':
            site = root.get(ROOT_KEY)
            return {'generation': getattr(site, 'generation', None)}
        log = root.get(AUDIT_KEY)
        return {'audit_entries': len(log) if log is not None else 0}
    finally:
        conn.close()
        db.close()


# --- blobs ----------------------------------------------------------------------------------

def _blob_tid(filename):
    """The transaction id (an int) in a blob file's name, or None for other files."""
    if not (filename.startswith('0x') and filename.endswith('.blob')):
        return None
    try:
        return int(filename[2:-5], 16)
    except ValueError:
        return None


def _blob_files(root, up_to):
    """``(relative path, tid)`` of the blob files under ``root`` committed by the
    transaction ``up_to`` (an int) or before it."""
    for folder, dirs, files in os.walk(root):
        if folder == root:
            dirs[:] = [d for d in dirs if d != 'tmp']  # (uncommitted uploads)
        dirs.sort()
        for name in sorted(files):
            tid = _blob_tid(name)
            if tid is not None and tid <= up_to:
                yield os.path.relpath(os.path.join(folder, name), root), tid


def _recorded_blobs(runs_dir):
    recorded = {}
    for name, manifest in _runs(runs_dir):
        recorded.update(manifest['blobs']['copied'])
    return recorded


# --- backup ---------------------------------------------------------------------------------

def _prepare_destination(dest, loc):
    dest = os.path.abspath(dest)
    real = os.path.realpath(dest)  # (a link into the data directory is inside it too)
    inside = [p for p in (loc.var_dir, loc.blobs, *map(os.path.dirname, loc.storages.values()))
              if p and (real == os.path.realpath(p)
                        or real.startswith(os.path.realpath(p).rstrip(os.sep) + os.sep))]
    if inside:
        raise BackupError(f'{dest} is inside the data directory ({inside[0]}): '
                          'keep backups on another disk.')
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise BackupError(f'{dest} is not a directory.')
    marker = os.path.join(dest, MARKER)
    if os.path.isdir(dest) and os.listdir(dest) and not os.path.exists(marker):
        raise BackupError(f'{dest} is not empty and is not a kpw backup: choose an empty '
                          'or new directory.')
    os.makedirs(dest, mode=0o700, exist_ok=True)
    if not os.path.exists(marker):
        with open(marker, 'w', encoding='ascii') as f:
            f.write(f'kpw backup, format {FORMAT}. Restore with: kpw -c CONFIG restore {dest}\n')
    else:
        with open(marker, encoding='ascii', errors='replace') as f:
            if f'format {FORMAT}.' not in f.read():
                raise BackupError(f'{dest} is a kpw backup of another format.')
    for sub in ('runs', 'keys', 'blobs', *(name for name, _ in DATABASES)):
        os.makedirs(os.path.join(dest, sub), mode=0o700, exist_ok=True)
    return dest


def _lock(dest):
    try:
        return LockFile(os.path.join(dest, '.lock'))
    except LockError:
        raise BackupError(f'Another kpw backup or restore is using {dest}; try again after it.')


def backup(loc, dest, full=False):
    """Back up the data directory ``loc`` (a :class:`Locations`) into ``dest``:
    full on the first run (or with ``full``), incremental after.

    :returns: the run's manifest (a dict), also written to ``dest/runs/``.
    :raises BackupError: when the backup cannot be made; nothing already in
        ``dest`` is changed then (a half-written run is completed by the next).
    """
    for name, path in loc.storages.items():
        if not os.path.isfile(path):
            raise BackupError(f'There is no {name} database at {path}: is this the right '
                              'configuration? (run kpw init first)')
    dest = _prepare_destination(dest, loc)
    lock = _lock(dest)
    try:
        return _backup(loc, dest, full)
    finally:
        lock.close()


def _secret(loc):
    if loc.secret:
        return loc.secret
    if os.path.exists(loc.secret_file):
        with open(loc.secret_file, encoding='ascii') as f:
            return f.read().strip()
    return ''


def _backup(loc, dest, full):
    earlier = _runs(os.path.join(dest, 'runs'))
    secret = _secret(loc)
    if earlier and earlier[-1][1]['keys'].get('secret_fingerprint') != (
            fingerprint(secret) if secret else None):
        raise BackupError(f'{dest} holds backups of a workspace with another secret (another '
                          'workspace, or its secret changed): use a new backup directory.')
    started = _now()
    manifest = {'format': FORMAT, 'started': _iso(started), 'databases': {},
                'not_included': ['search index (rebuilt on restore)',
                                 'the .ini configuration file']}
    checksums = {}
    for name, _default in DATABASES:  # main first: it is the cut the rest follows
        source = loc.storages[name]
        repository = os.path.join(dest, name)
        kind, new, date, last = _repozo_backup(source, repository, full)
        for f in new:
            if repozo.is_data_file(f):
                checksums[f'{name}/{f}'] = _sha256(os.path.join(repository, f))
        manifest['databases'][name] = {
            'source': source, 'kind': kind, 'repozo_date': date, 'last_tid': last,
            'last_committed': tid_time(last) if last else None,
            'size': sum(os.path.getsize(os.path.join(repository, f)) for f in new
                        if repozo.is_data_file(f)),
            **_facts_at(name, source, last)}
    cut = manifest['databases']['main']['last_tid']
    manifest['generation'] = manifest['databases']['main'].pop('generation', None)
    manifest['blobs'] = _backup_blobs(loc, dest, int(cut, 16) if cut else -1)
    manifest['keys'] = _backup_keys(loc, dest, checksums)
    manifest['checksums'] = checksums
    manifest['finished'] = _iso(_now())
    name = _iso(started).replace(':', '-') + '.json'
    _write_json(os.path.join(dest, 'runs', name), manifest)
    manifest['name'] = name
    return manifest


def _backup_blobs(loc, dest, cut):
    info = {'copied': {}, 'copied_bytes': 0, 'total': 0, 'total_bytes': 0, 'layout': None}
    if not loc.blobs:
        return info
    target = os.path.join(dest, 'blobs')
    layout = os.path.join(loc.blobs, '.layout')
    if os.path.exists(layout):
        with open(layout, encoding='ascii') as f:
            info['layout'] = f.read().strip()
        if not os.path.exists(os.path.join(target, '.layout')):
            _copy(layout, os.path.join(target, '.layout'))
    recorded = _recorded_blobs(os.path.join(dest, 'runs'))
    for rel, _tid in _blob_files(loc.blobs, cut):
        size = os.path.getsize(os.path.join(loc.blobs, rel))
        info['total'] += 1
        info['total_bytes'] += size
        if rel in recorded:  # blob files never change: once copied is enough
            continue
        info['copied'][rel] = _copy(os.path.join(loc.blobs, rel), os.path.join(target, rel))
        info['copied_bytes'] += size
    _fsync_dir(target)
    return info


def _backup_keys(loc, dest, checksums):
    """The deployment secret: it keys the session cookies, the API tokens, and the
    encryption of the signing CA's key and of every signer's key (those live,
    encrypted, in the main database)."""
    keys = {}
    secret = _secret(loc)
    if not loc.secret and secret:
        name = f'keys/secret-{fingerprint(secret)}.key'
        target = os.path.join(dest, name)
        if not os.path.exists(target):
            checksums[name] = _copy(loc.secret_file, target, mode=0o600)
        keys['secret.key'] = name
    elif secret:
        keys['secret'] = ('set in the configuration (kp_workspace.secret), not copied: '
                          'keep the .ini file')
    keys['secret_fingerprint'] = fingerprint(secret) if secret else None
    return keys


# --- restore --------------------------------------------------------------------------------

def _runs(runs_dir):
    try:
        names = sorted(n for n in os.listdir(runs_dir) if n.endswith('.json'))
    except FileNotFoundError:
        return []
    runs = []
    for name in names:
        try:
            with open(os.path.join(runs_dir, name), encoding='utf-8') as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            raise BackupError(f'The manifest {name} cannot be read ({e}).')
        manifest['name'] = name
        runs.append((name, manifest))
    return runs


def runs(src):
    """The completed runs in the backup ``src``, oldest first, as manifests.

    :raises BackupError: when ``src`` is not a kpw backup.
    """
    src = os.path.abspath(src)
    if not os.path.exists(os.path.join(src, MARKER)):
        raise BackupError(f'{src} is not a kpw backup (it has no {MARKER} file).')
    found = [m for _n, m in _runs(os.path.join(src, 'runs'))]
    if not found:
        raise BackupError(f'{src} holds no completed backup run.')
    return found


def parse_when(text):
    """``--at``: a UTC time, ``YYYY-MM-DD[THH:MM[:SS]]`` (a date alone is its midnight).

    :raises ValueError: with a message, for anything else.
    """
    raw = text.strip().replace(' ', 'T')
    if raw.endswith('Z'):
        raw = raw[:-1]
    try:
        moment = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f'{text!r} is not a time: write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)')
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def choose_run(src, at=None):
    """The newest run of ``src`` that started at or before ``at`` (the newest, without).

    :raises BackupError: when there is none.
    """
    found = runs(src)
    if at is None:
        return found[-1]
    earlier = [m for m in found if m['started'] <= _iso(at)]
    if not earlier:
        raise BackupError(f'No backup run in {src} started at or before {_iso(at)}; '
                          f'the first started {found[0]["started"]}.')
    return earlier[-1]


def _empty(path):
    """Whether ``path`` is missing, or a directory holding at most empty directories."""
    if not os.path.exists(path):
        return True
    if not os.path.isdir(path):
        return False
    return all(os.path.isdir(os.path.join(path, n)) and _empty(os.path.join(path, n))
               for n in os.listdir(path))


def check_target(loc):
    """:raises BackupError: unless the data directory (and every path it keeps
    data at) is empty."""
    for path in (loc.var_dir, loc.blobs, *loc.storages.values()):
        if path and not _empty(path):
            raise BackupError(f'{loc.var_dir} is not empty: kpw restore writes only into an '
                              'empty data directory. Move its contents away (or name an '
                              'empty directory in the configuration) and run it again.')


def _secret_for(loc, src, run):
    """The secret the restored deployment will use, and the backup's file of it
    (None when the .ini sets the secret)."""
    expected = run['keys'].get('secret_fingerprint')
    if loc.secret:
        if expected and fingerprint(loc.secret) != expected:
            raise BackupError('The kp_workspace.secret of this configuration is not the secret '
                              'of the backed-up workspace: its signing keys could not be '
                              'opened. Use the .ini of that deployment (or remove the setting '
                              'to use the backup\'s secret.key).')
        return None
    name = run['keys'].get('secret.key')
    if not name:
        raise BackupError('The backed-up workspace set its secret in its .ini file '
                          '(kp_workspace.secret), so the backup holds none: set the same '
                          'value in this configuration.')
    path = os.path.join(src, name)
    if not os.path.isfile(path):
        raise BackupError(f'The backup lacks its secret key ({name}).')
    with open(path, encoding='ascii') as f:
        if fingerprint(f.read().strip()) != expected:
            raise BackupError(f'The backup\'s secret key ({name}) has been changed.')
    return path


def restore_files(loc, src, run):
    """Recover the databases, blob files and secret of ``run`` (a manifest from
    :func:`runs`) of the backup ``src`` into the empty data directory ``loc``.

    :returns: a dict of what was restored.
    :raises BackupError: when the target is not empty, or the backup is damaged
        or does not fit the configuration; whatever was written is removed then.
    """
    src = os.path.abspath(src)
    check_target(loc)
    secret_path = _secret_for(loc, src, run)
    lock = _lock(src)
    written = []
    try:
        facts = _restore(loc, src, run, secret_path, written)
    except BaseException:
        for path in reversed(written):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.remove(path)
        raise
    finally:
        lock.close()
    return facts


def _restore(loc, src, run, secret_path, written):
    facts = {'run': run['name'], 'started': run['started'], 'databases': {}}
    for name, _default in DATABASES:
        info, target = run['databases'][name], loc.storages[name]
        os.makedirs(os.path.dirname(target), exist_ok=True)
        written += [target, target + '.index', target + '.part']
        argv = ['-R', '-r', os.path.join(src, name), '-o', target, '-D', info['repozo_date'],
                '--with-verify']
        try:
            repozo.do_recover(repozo.parseargs(argv))
        except (repozo.RepozoError, OSError, KeyError) as e:
            raise BackupError(f'The {name} database cannot be recovered from {src}: {e}')
        storage = FileStorage(target, read_only=True)
        try:
            last = storage.lastTransaction().hex()
        finally:
            storage.close()
        if info['last_tid'] and last != info['last_tid']:
            raise BackupError(f'The recovered {name} database ends at transaction {last}, '
                              f'the backup says {info["last_tid"]}.')
        facts['databases'][name] = {'last_tid': last, 'last_committed': info['last_committed']}
    facts['blobs'] = _restore_blobs(loc, src, run, written)
    if secret_path is not None:
        written.append(loc.secret_file)
        _copy(secret_path, loc.secret_file, mode=0o600)
        facts['secret'] = 'secret.key from the backup'
    else:
        facts['secret'] = 'kp_workspace.secret of the configuration (it matches the backup)'
    return facts


def _restore_blobs(loc, src, run, written):
    if not loc.blobs:
        return {'restored': 0, 'bytes': 0}
    source = os.path.join(src, 'blobs')
    cut = run['databases']['main']['last_tid']
    checksums = {}
    for _name, manifest in _runs(os.path.join(src, 'runs')):
        if manifest['name'] <= run['name']:
            checksums.update(manifest['blobs']['copied'])
    if not os.path.isdir(loc.blobs):
        written.append(loc.blobs)
    os.makedirs(loc.blobs, exist_ok=True)
    for entry in os.listdir(loc.blobs):  # (empty folders only: checked before)
        written.append(os.path.join(loc.blobs, entry))
    layout = os.path.join(source, '.layout')
    if os.path.exists(layout):
        written.append(os.path.join(loc.blobs, '.layout'))
        _copy(layout, os.path.join(loc.blobs, '.layout'))
    count = size = 0
    expected = {rel for rel in checksums
                if _blob_tid(os.path.basename(rel)) <= (int(cut, 16) if cut else -1)}
    for rel, _tid in _blob_files(source, int(cut, 16) if cut else -1):
        target = os.path.join(loc.blobs, rel)
        top = os.path.join(loc.blobs, rel.split(os.sep)[0])
        if top not in written:
            written.append(top)
        digest = _copy(os.path.join(source, rel), target)
        if checksums.get(rel, digest) != digest:
            raise BackupError(f'The blob file {rel} in the backup has been changed since it '
                              'was copied (its checksum differs).')
        expected.discard(rel)
        count += 1
        size += os.path.getsize(target)
    if expected:
        raise BackupError(f'{len(expected)} blob files are missing from the backup '
                          f'(e.g. {sorted(expected)[0]}).')
    if count < run['blobs']['total']:
        raise BackupError(f'The backup holds {count} blob files for this run; its manifest '
                          f'says {run["blobs"]["total"]}.')
    return {'restored': count, 'bytes': size}


def write_note(loc, src, run, facts, lines):
    """Leave ``RESTORED.txt`` in the data directory: what came from where."""
    text = [f'Restored by kpw restore at {_iso(_now())}',
            f'from the backup {os.path.abspath(src)}, run {run["name"]} '
            f'(started {run["started"]}, generation {run.get("generation")}).']
    for name, info in facts['databases'].items():
        text.append(f'{name} database: {loc.storages[name]}, up to transaction '
                    f'{info["last_tid"]} committed {info["last_committed"]}.')
    text.append(f'blob files: {facts["blobs"]["restored"]} ({facts["blobs"]["bytes"]} bytes) '
                f'in {loc.blobs or "-"}.')
    text.append(f'secret: {facts["secret"]}.')
    text += lines
    text.append('The audit database was cut after the main one: it holds the entry of every '
                'action in the main database, and may hold entries of actions taken in the '
                'moments between the two cuts, which the main database does not have.')
    path = os.path.join(loc.var_dir, NOTE)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(text) + '\n')
    return path
