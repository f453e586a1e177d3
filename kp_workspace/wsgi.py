"""WSGI middleware that must act before Pyramid reads a request body."""
import json


class UploadLimit:
    """Refuse (413) an upload whose declared size is over the limit, before any of it
    is read.  pyramid_retry copies every request body to make it replayable, so a
    check inside Pyramid would come after the whole upload had been received.
    Uploads without a declared length are still stopped at the limit while they
    are copied into the blob (:func:`kp_workspace.content_types.attachment.copy_limited`).
    """

    SLACK = 1 << 20  # room for the other form fields around the file

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __getattr__(self, name):  # registry, etc. of the wrapped Pyramid app
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        if environ.get('REQUEST_METHOD') == 'POST' and \
                environ.get('PATH_INFO', '').endswith('/attachments'):
            try:
                length = int(environ.get('CONTENT_LENGTH') or 0)
            except ValueError:
                length = 0
            if length > self.limit + self.SLACK:
                return self.refuse(environ, start_response)
        return self.app(environ, start_response)

    def refuse(self, environ, start_response):
        message = f'The file is larger than the limit of {self.limit >> 20} MB.'
        if environ.get('PATH_INFO', '').startswith('/api/'):
            body, kind = json.dumps({'error': message}).encode(), 'application/json'
        else:
            body = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Too large'
                    f'</title></head><body><h1>Too large</h1><p>{message} Go back and choose a '
                    f'smaller file.</p></body></html>').encode()
            kind = 'text/html; charset=utf-8'
        start_response('413 Request Entity Too Large',
                       [('Content-Type', kind), ('Content-Length', str(len(body))),
                        ('Connection', 'close')])
        return [body]
