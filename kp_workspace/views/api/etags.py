"""ETags for the JSON API's reads, so a phone on a slow network need not download what
it already has.

Every ``GET`` under ``/api/v1`` that answers 200 carries a strong ``ETag``: a digest of
the exact bytes of its body, which already depend on who asks (the actions offered,
what may be seen), so it can never say "unchanged" about something that changed.  A
request whose ``If-None-Match`` names the current ETag gets ``304 Not Modified`` with no
body.  (A file streamed from storage, an attachment, has none.)  The body is still made (the digest is of it): this saves the network, not the
server.  ``Cache-Control: no-store`` stays: a client keeps the copy itself and
revalidates with the ETag.
"""
import hashlib

from pyramid.httpexceptions import HTTPNotModified
from pyramid.tweens import MAIN

API = '/api/v1/'


def etag_of(body):
    return hashlib.sha256(body).hexdigest()[:32]


def etag_tween_factory(handler, registry):
    def etag_tween(request):
        response = handler(request)
        if request.method not in ('GET', 'HEAD') or response.status_code != 200 \
                or not request.environ.get('PATH_INFO', '').startswith(API) \
                or not isinstance(response.app_iter, (list, tuple)):
            return response   # (a file streamed from its blob is not read to digest it)
        tag = etag_of(response.body)
        response.etag = tag
        if tag in request.if_none_match:
            return HTTPNotModified(headers={'ETag': response.headers['ETag']})
        return response
    return etag_tween


def includeme(config):
    config.add_tween('kp_workspace.views.api.etags.etag_tween_factory', over=MAIN)
