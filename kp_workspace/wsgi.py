"""WSGI middleware that must act before Pyramid reads a request body.

Every request body is read here once, counted, and spooled (in memory while
small, then to a temporary file); Pyramid, webob and pyramid_retry all read
that one copy.  So a body over the limit is stopped while it arrives, whether
or not it declared its length, and every retry of a request sees the same bytes.
"""
import io
import tempfile

from pyramid.i18n import TranslationStringFactory

from .errors import DomainError

_ = TranslationStringFactory('kp_workspace')

REFUSED = 'kp_workspace.body_refused'  # environ key: the limit a body went over
CHUNK = 64 * 1024
IN_MEMORY = 64 * 1024  # bodies up to this size are spooled in memory, larger ones on disk


class BodyTooLarge(DomainError):
    status = 413


def body_too_large(limit):
    return BodyTooLarge(_('The file is larger than the limit of ${mb} MB.',
                          mapping={'mb': limit >> 20}), field='file')


class UploadLimit:
    """Refuse (413) a request whose body is over the upload limit (plus room for the
    form fields around the file), and spool every body once.

    A body that declares a larger ``Content-Length`` is refused before any of it is
    read; one without a declared length (chunked) is read in chunks and refused as
    soon as it passes the limit.  The refusal itself is left to Pyramid (see
    :func:`refuse_oversize_tween_factory`), so the browser gets the site's error page
    and the API a JSON error, in the user's language, with the usual headers.
    """

    SLACK = 1 << 20  # room for the other form fields around the file

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __getattr__(self, name):  # registry, etc. of the wrapped Pyramid app
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        ceiling = self.limit + self.SLACK
        raw = environ.get('CONTENT_LENGTH') or ''
        try:
            length = int(raw) if raw.strip() else None
        except ValueError:
            length = None
        if length is not None and length < 0:
            length = None
        chunked = (environ.get('wsgi.input_terminated')
                   or 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower())
        if length is None and not chunked or length == 0:
            return self.app(environ, start_response)
        if length is not None and length > ceiling:
            self._refuse(environ)
            return self.app(environ, start_response)
        try:
            spool = self._spool(environ, length, ceiling)
        except _OverLimit:
            self._refuse(environ)
            return self.app(environ, start_response)
        if spool is None:
            return self.app(environ, start_response)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            spool.close()
            raise
        return _Closing(result, spool)

    def _refuse(self, environ):
        # Pyramid sees an empty body and the mark; the body itself is never read.
        environ[REFUSED] = self.limit
        environ['wsgi.input'] = io.BytesIO()
        environ['CONTENT_LENGTH'] = '0'
        environ['webob.is_body_seekable'] = True
        environ.pop('HTTP_TRANSFER_ENCODING', None)

    @staticmethod
    def _spool(environ, length, ceiling):
        """Copy the body into a seekable spool (None: there was no body).

        :raises _OverLimit: the body passed ``ceiling``; reading stopped there.
        """
        source = environ['wsgi.input']
        first = source.read(CHUNK if length is None else min(CHUNK, length))
        if not first:  # no body after all (waitress marks every input terminated)
            environ['wsgi.input'] = io.BytesIO()
            environ['CONTENT_LENGTH'] = '0'
            return None
        spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY, prefix='kpw-body-')
        total = 0
        while length is None or total < length:
            if first:
                data, first = first, b''
            else:
                data = source.read(CHUNK if length is None else min(CHUNK, length - total))
            if not data:
                break  # a client that sent less than it declared: the parser sees what came
            total += len(data)
            if total > ceiling:
                spool.close()
                raise _OverLimit()
            spool.write(data)
        spool.seek(0)
        environ['wsgi.input'] = spool
        environ['CONTENT_LENGTH'] = str(total)
        environ['webob.is_body_seekable'] = True  # webob and pyramid_retry reuse it, not copy it
        environ.pop('HTTP_TRANSFER_ENCODING', None)
        return spool


class _OverLimit(Exception):
    pass


class _Closing:
    """The app's response iterable, closing the spooled body when the server is done."""

    def __init__(self, result, spool):
        self.result = result
        self.spool = spool

    def __iter__(self):
        return iter(self.result)

    def close(self):
        try:
            close = getattr(self.result, 'close', None)
            if close is not None:
                close()
        finally:
            self.spool.close()


def refuse_oversize_tween_factory(handler, registry):
    """Answer 413 for a body :class:`UploadLimit` refused, before any view (or its
    CSRF check, which would find no token in the dropped body) runs."""
    def tween(request):
        limit = request.environ.get(REFUSED)
        if limit is not None:
            raise body_too_large(limit)
        return handler(request)
    return tween


def includeme(config):
    from pyramid.tweens import EXCVIEW
    config.add_tween('kp_workspace.wsgi.refuse_oversize_tween_factory', under=EXCVIEW)
