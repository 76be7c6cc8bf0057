"""Pages as thin as the API (issue 15): a page handler reads its input, calls one service
function and renders, in ten lines of body or fewer. `python tests/test_thin_pages.py` lists
every handler, longest first."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOST = 10  # body lines, the docstring not counted
ROUTES = ("get", "post", "put", "patch", "delete", "route")


def _routed(function):
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTES
        for d in function.decorator_list
    )


def _body_lines(function):
    body = function.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def handler_lengths():
    """[(body lines, "points/x/pages.py:handler")] for every page handler, longest first."""
    found = []
    for path in sorted((ROOT / "points").glob("**/pages.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and _routed(node):
                found.append((_body_lines(node), f"{path.relative_to(ROOT)}:{node.name}"))
    return sorted(found, reverse=True)


def test_no_page_handler_is_longer_than_ten_lines():
    lengths = handler_lengths()
    assert lengths, "no page handlers found"
    assert [name for n, name in lengths if n > MOST] == []


if __name__ == "__main__":
    for n, name in handler_lengths():
        print(f"{n:4d}  {name}")
