"""Forgetting expired records a batch at a time, oldest first."""


def purge_expired(by_time, records, cutoff, batch=100):
    """Remove up to ``batch`` entries ``(time, key)`` of ``by_time`` (a sorted
    OOTreeSet) whose time is at or before ``cutoff``, and their ``records[key]``.

    :returns: how many were removed.
    """
    done = []
    for item in by_time:
        if item[0] > cutoff or len(done) >= batch:
            break
        done.append(item)
    for item in done:
        by_time.remove(item)
        records.pop(item[1], None)
    return len(done)
