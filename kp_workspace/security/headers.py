"""Security headers on every response, set by one tween.

HTML pages get a Content-Security-Policy that allows no inline script or style
and no framing, so an injected ``<script>`` does not run and the approve and
sign pages cannot be laid under another site's page (clickjacking).  Every
response (JSON, PDFs, static files, error pages) gets the headers that make
sense for any content: no type sniffing, no framing, a strict referrer policy;
and, when the deployment serves HTTPS (``kp_workspace.hsts_max_age``),
Strict-Transport-Security.

One exception to "no framing": a PDF attachment served to be read beside the
noting sheet (marked by :func:`show_in_reading_pane`) may sit in a frame of this
site's own pages, and nowhere else.
"""
from pyramid.tweens import INGRESS

CONTENT_SECURITY_POLICY = '; '.join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-src 'self'",   # the reading pane: an attachment beside the noting sheet
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Checked in Debian's Chromium 156: its PDF viewer shows a PDF under this policy (it
# needs nothing from the document's origin); no HTML-level script or request can run
# from the document.  (A CSP ``sandbox`` did not stop that viewer in 156, but does in
# some other versions and browsers, and an iframe ``sandbox`` attribute always does.)
READING_PANE_PDF_POLICY = '; '.join((
    "default-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
))
PERMISSIONS_POLICY = ', '.join(f'{feature}=()' for feature in (
    'camera', 'microphone', 'geolocation', 'payment', 'usb', 'serial',
    'display-capture', 'interest-cohort'))
EVERY_RESPONSE = (
    ('X-Content-Type-Options', 'nosniff'),
    ('X-Frame-Options', 'DENY'),
    ('Referrer-Policy', 'same-origin'),
    ('Permissions-Policy', PERMISSIONS_POLICY),
)


def show_in_reading_pane(response):
    """Mark ``response`` (an attachment's PDF, served inline) as one this site's own
    pages may frame.  Any other response stays unframable, whatever it is."""
    response.kpw_reading_pane = True
    return response


def security_headers_tween_factory(handler, registry):
    """The tween: the headers of :data:`EVERY_RESPONSE`, the CSP on HTML, HSTS when set."""
    hsts_max_age = registry.kpw_settings.hsts_max_age
    hsts = f'max-age={hsts_max_age}; includeSubDomains' if hsts_max_age else None

    def security_headers_tween(request):
        response = handler(request)
        headers = response.headers
        if getattr(response, 'kpw_reading_pane', False) and \
                response.content_type == 'application/pdf':
            headers['X-Frame-Options'] = 'SAMEORIGIN'
            headers['Content-Security-Policy'] = READING_PANE_PDF_POLICY
        for name, value in EVERY_RESPONSE:
            headers.setdefault(name, value)
        content_type = response.content_type
        if content_type == 'text/html':
            headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY
        elif content_type == 'application/pdf':
            # (a stricter policy would stop the browser's own PDF viewer)
            headers.setdefault('Content-Security-Policy', "frame-ancestors 'none'")
        else:
            # nothing else is a page: it may load nothing and sit in no frame
            headers.setdefault('Content-Security-Policy',
                               "default-src 'none'; frame-ancestors 'none'")
        if hsts:
            headers['Strict-Transport-Security'] = hsts
        if 'Cache-Control' not in headers and not request.path.startswith('/static/'):
            # pages, files, PDFs and answers are for whoever asked, now: no browser
            # cache or shared proxy keeps a copy of a confidential file
            headers['Cache-Control'] = 'no-store'
        return response
    return security_headers_tween


def includeme(config):
    # Outermost, so error pages, retried requests and static files get them too.
    config.add_tween('kp_workspace.security.headers.security_headers_tween_factory',
                     under=INGRESS)
