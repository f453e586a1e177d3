"""``/favicon.ico``, which browsers ask for by themselves (for a PDF, an image, a
page without a ``<link rel="icon">``): the workspace's icon, not a 404 page.

It reads no session and writes nothing, like a static file.
"""
import os

from pyramid.response import FileResponse
from pyramid.view import view_config

ICON = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'static', 'favicon.svg')


@view_config(route_name='favicon', request_method=('GET', 'HEAD'))
def favicon(request):
    return FileResponse(ICON, request=request, content_type='image/svg+xml',
                        cache_max_age=24 * 3600)
