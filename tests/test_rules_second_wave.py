"""The second wave's scheme keys (adopted, grades) are read by the same readers table as every
other key: a key written with nothing after it is not given, a bad one is named, and its error
comes with the others of the file."""

from test_schemes_defensible import scheme_file

ITEM = {"code": "X4", "name": "见义勇为", "type": "fixed", "points": 20}


def load(tmp_path, extra):
    from points.rules import load_scheme_file

    path = scheme_file(tmp_path, ITEM) / "demo.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_scheme_file(path)


def test_adopted_and_grades_with_nothing_after_them_are_not_given(tmp_path):
    scheme = load(tmp_path, "adopted:\ngrades:\n")
    assert scheme.adopted is None and scheme.grades == ()


def test_a_bad_adopted_and_a_bad_grade_table_are_both_named(tmp_path):
    from points.rules.loader import _read_file

    path = scheme_file(tmp_path, ITEM) / "demo.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "adopted: yes\ngrades: []\n", encoding="utf-8"
    )
    scheme, errors = _read_file(path)
    assert scheme is None
    assert [e.item for e in errors] == ["adopted", "grades"], [str(e) for e in errors]
