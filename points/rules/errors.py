"""The two errors of the rules engine: a bad scheme file, and a bad value for an entry."""


class RuleError(Exception):
    """A scheme (积分方案) that cannot be used, said in plain words.

    `file` is the path of the YAML file (None for a scheme rebuilt from stored data),
    `item` the item code, or a key path such as `stars[1]` or `year_end.carry` when
    `is_path` is true, or None for the whole file; `reason` says what is wrong.
    """

    def __init__(self, file, item, reason, is_path=False):
        super().__init__(file, item, reason, is_path)
        self.file = file
        self.item = item
        self.reason = reason
        self.is_path = is_path

    def __str__(self):
        parts = [self.file] if self.file else []
        if self.item is not None:
            parts.append(self.item if self.is_path else f"item {self.item}")
        parts.append(self.reason)
        return ": ".join(parts)


class InvalidValue(Exception):
    """A value given for an entry (积分记录) that the item does not accept.

    `field` is the input at fault: 'points', 'quantity' or 'grade'.
    """

    def __init__(self, field, message, reason=None, **params):
        super().__init__(field, message)
        self.field = field
        self.message = message
        self.reason = reason  # a name for the message, that pages word in their language
        self.params = params

    def __str__(self):
        return f"{self.field}: {self.message}"
