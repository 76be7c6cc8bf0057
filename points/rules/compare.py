"""What changed from one version of a scheme to the next, item by item: what a village prints
for its villagers' meeting beside the new version (民主程序)."""

SETTINGS = (
    "name",
    "subject",
    "notice_days",
    "reviewers_required",
    "redeem_threshold",
    "stars",
    "year_end",
    "grades",
    "adopted",
)


def compare(before, after):
    """{"settings": [{"key", "before", "after"}], "items": [{"code", "category", "name",
    "change": "added" | "removed" | "changed", "fields": [{"key", "before", "after"}]}]}.

    `before` and `after` are Schemes (points.rules.Scheme); `before` may be None (a first
    version: every item is added). Items keep the order of `after`, removed ones come last.
    """
    old = before.to_dict() if before is not None else {"categories": []}
    new = after.to_dict()
    settings = [
        {"key": key, "before": old.get(key), "after": new.get(key)}
        for key in SETTINGS
        if before is not None and old.get(key) != new.get(key)
    ]
    old_items, new_items = _items_of(old), _items_of(new)
    items = []
    for code, (category, item) in new_items.items():
        if code not in old_items:
            items.append(_change(code, category, item, "added", []))
            continue
        old_category, old_item = old_items[code]
        fields = _differences(dict(old_item, category=old_category), dict(item, category=category))
        if fields:
            items.append(_change(code, category, item, "changed", fields))
    for code, (category, item) in old_items.items():
        if code not in new_items:
            items.append(_change(code, category, item, "removed", []))
    return {"settings": settings, "items": items}


def _items_of(definition):
    return {
        item["code"]: (category["name"], item)
        for category in definition["categories"]
        for item in category["items"]
    }


def _differences(old, new):
    keys = list(new) + [key for key in old if key not in new]
    return [
        {"key": key, "before": old.get(key), "after": new.get(key)}
        for key in keys
        if old.get(key) != new.get(key)
    ]


def _change(code, category, item, change, fields):
    return {
        "code": code,
        "category": category,
        "name": item["name"],
        "change": change,
        "fields": fields,
    }
