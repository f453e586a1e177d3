"""Records: plain values kept inside BTrees (audit entries, alerts, token records...).

When two transactions change the same BTree bucket at once, ZODB asks the
bucket to merge the changes, and the bucket checks that the keys neither side
changed still hold equal values.  Without value equality, two copies of one
unchanged record never compare equal, so every pair of concurrent writes
conflicts (and, retried together, can conflict again and again): a busy office
would see "busy, nothing was saved".  Records compare by value.
"""


class Record:
    """A value object: equal to another of its class with the same attributes."""

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __lt__(self, other):
        # BTrees (in C) compare values with < before ==, and take an error for
        # "less": records have no order, so < is never true.
        if type(other) is not type(self):
            return NotImplemented
        return False

    __hash__ = None  # (equal by value and not immutable: not to be used as a key)
