"""Read scheme files (积分方案) from YAML: one file, or every file of the rules directory."""

from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from points.rules.errors import RuleError
from points.rules.validation import read_scheme, scheme_warnings

SCHEME_SUFFIXES = (".yaml", ".yml")


class _SchemeYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe loader that keeps written decimals exact and refuses a key written twice.

    On libyaml's parser where PyYAML was built with it (the wheels are): a scheme file is read
    at every start and every `rules sync`, and the pure-Python parser took 80 ms a file."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:
                continue  # an unhashable key: the base loader reports it
            if repeated:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"key '{key}' is written twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader, node):
    """2.5 in the file becomes Decimal('2.5'), never the float 2.5."""
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)  # .inf, .nan, 1:30.5: checked later


_SchemeYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def load_scheme_file(path):
    """Read and check one scheme file; raise the first RuleError found."""
    scheme, errors = _read_file(path)
    if errors:
        raise errors[0]
    return scheme


def load_scheme_dir(directory):
    """Read every scheme file of `directory` in file-name order; raise the first RuleError."""
    schemes, errors = _read_dir(directory)
    if errors:
        raise errors[0]
    return schemes


def check_dir(directory):
    """Every problem of every scheme file of `directory`; an empty list when all is well."""
    return _read_dir(directory)[1]


def warnings_of_dir(directory):
    """What `rules check` warns of in the valid files of `directory` (a missing `adopted:`)."""
    warnings = []
    for path, scheme in _valid_files(directory):
        warnings += scheme_warnings(scheme, str(path))
    return warnings


def _valid_files(directory):
    folder = Path(directory)
    paths = sorted(folder.glob("*.y*ml")) if folder.is_dir() else []
    for path in paths:
        if path.suffix in SCHEME_SUFFIXES and not path.name.startswith(".") and path.is_file():
            scheme, errors = _read_file(path)
            if scheme is not None and not errors:
                yield path, scheme


def _read_dir(directory):
    folder = Path(directory)
    if not folder.is_dir():
        return [], [RuleError(str(folder), None, "no such directory")]
    paths = sorted(
        (
            path
            for path in folder.iterdir()
            if path.suffix in SCHEME_SUFFIXES and not path.name.startswith(".") and path.is_file()
        ),
        key=lambda path: path.name,
    )
    if not paths:
        return [], [RuleError(str(folder), None, "no scheme files (*.yaml) in this directory")]
    schemes, errors, files_by_code = [], [], {}
    for path in paths:
        scheme, file_errors = _read_file(path)
        errors += file_errors
        if scheme is None:
            continue
        if scheme.code in files_by_code:
            errors.append(
                RuleError(
                    str(path),
                    "code",
                    f"scheme code {scheme.code} is already used by {files_by_code[scheme.code]}",
                    True,
                )
            )
            continue
        files_by_code[scheme.code] = str(path)
        schemes.append(scheme)
    return schemes, errors


def _read_file(path):
    """(Scheme or None, list of RuleError) for one file."""
    file = str(path)
    try:
        # utf-8-sig: files saved by Windows Notepad start with a byte-order mark.
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return None, [RuleError(file, None, "the file is not UTF-8 text; save it as UTF-8")]
    except OSError as error:
        return None, [RuleError(file, None, f"cannot read the file: {error.strerror}")]
    try:
        data = yaml.load(text, Loader=_SchemeYamlLoader)
    except yaml.YAMLError as error:
        return None, [RuleError(file, None, _yaml_reason(error))]
    return read_scheme(data, file)


def _yaml_reason(error):
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
