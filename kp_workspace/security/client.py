"""Who sent a request: the client address, the same for throttling and the audit log."""


def client_address(request):
    """The address of the client that sent ``request``, for throttling and the audit log.

    ``REMOTE_ADDR``, unless it is one of the ``kp_workspace.trusted_proxies``:
    then the right-most ``X-Forwarded-For`` entry that is not a trusted proxy
    (entries further left are whatever the client chose to send).
    """
    address = request.environ.get('REMOTE_ADDR') or ''
    trusted = request.registry.kpw_settings.trusted_proxies
    if address in trusted:
        forwarded = [a.strip() for a in request.headers.get('X-Forwarded-For', '').split(',')]
        for hop in reversed([a for a in forwarded if a]):
            if hop not in trusted:
                return hop[:64]
    return address
