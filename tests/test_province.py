"""One service per county: a county's year as a signed file, the province's merge of them."""

import csv
import json

import pytest

from shop_helpers import give_points, open_shop, redeem


@pytest.fixture
def counties(world, tmp_path):
    """Two counties of one database (as two instances would be), each with its key, and the
    province's directory of public keys."""
    keys = tmp_path / "keys"
    keys.mkdir()
    runner = world.app.test_cli_runner()
    for county in ("county", "zhao"):
        made = runner.invoke(args=["stats", "keygen", "--out", str(tmp_path / f"{county}.key")])
        assert made.exit_code == 0, made.output
        (tmp_path / f"{county}.key.pub").rename(keys / f"{county}.pub")
    return runner, tmp_path, keys


def export(runner, tmp_path, county, key=None, year=None):
    from conftest import local_today

    out = tmp_path / f"{county}-stats.json"
    done = runner.invoke(
        args=[
            "stats",
            "export",
            "--year",
            str(year or local_today().year),
            "--unit",
            county,
            "--key",
            str(tmp_path / f"{key or county}.key"),
            "--out",
            str(out),
        ]
    )
    assert done.exit_code == 0, done.output
    return out


def merge(runner, keys, out, *files):
    return runner.invoke(
        args=["stats", "merge", "--keys", str(keys), "--out", str(out), *map(str, files)]
    )


def test_two_counties_merge_into_one_province_table(world, counties):
    runner, tmp_path, keys = counties
    open_shop(world, goods=[("soap", "肥皂", 5, 100)])
    give_points(world, ["H1", "H2"], 20)
    assert redeem(world, [("soap", 2)]).status == 201
    give_points(world, "M1", 10, scheme="shita")
    files = [export(runner, tmp_path, "county"), export(runner, tmp_path, "zhao")]
    done = merge(runner, keys, tmp_path / "province.csv", *files)
    assert done.exit_code == 0, done.output
    rows = list(
        csv.DictReader((tmp_path / "province.csv").read_text(encoding="utf-8-sig").splitlines())
    )
    longhua = next(r for r in rows if r["县编码"] == "county" and r["方案"] == "longhua")
    assert (
        longhua["县"],
        longhua["户数/人数"],
        longhua["获得积分"],
        longhua["兑换次数"],
        longhua["兑换积分"],
    ) == ("隆化县", "4", "40.0", "1", "10.0")
    assert next(r for r in rows if r["县编码"] == "zhao")["获得积分"] == "10.0"
    assert [r["县编码"] for r in rows][-2:] == ["合计", "合计"]


def test_the_table_can_be_a_spreadsheet(world, counties):
    from openpyxl import load_workbook

    runner, tmp_path, keys = counties
    give_points(world, "H1", 10)
    assert (
        merge(
            runner, keys, tmp_path / "province.xlsx", export(runner, tmp_path, "county")
        ).exit_code
        == 0
    )
    sheet = load_workbook(tmp_path / "province.xlsx").active
    assert [c.value for c in sheet[2]][:3] == ["county", "隆化县", "longhua"] and sheet[2][
        9
    ].value == 10


def _refused(runner, keys, tmp_path, *files):
    done = merge(runner, keys, tmp_path / "province.csv", *files)
    assert done.exit_code == 1
    assert not (tmp_path / "province.csv").exists()  # nothing merged, nothing half-written
    return done.output


def test_an_edited_file_is_refused_and_nothing_is_merged(world, counties):
    runner, tmp_path, keys = counties
    give_points(world, "H1", 10)
    good, edited = export(runner, tmp_path, "zhao"), export(runner, tmp_path, "county")
    document = json.loads(edited.read_text(encoding="utf-8"))
    document["payload"]["schemes"][0]["granted"] = 1000.0
    edited.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    said = _refused(runner, keys, tmp_path, good, edited)
    assert "signature does not hold" in said and str(edited) in said


def test_an_unsigned_file_or_one_signed_by_another_county_is_refused(world, counties):
    runner, tmp_path, keys = counties
    unsigned = export(runner, tmp_path, "county")
    document = json.loads(unsigned.read_text(encoding="utf-8"))
    del document["signature"]
    unsigned.write_text(json.dumps(document), encoding="utf-8")
    assert "not a signed statistics file" in _refused(runner, keys, tmp_path, unsigned)
    impostor = export(runner, tmp_path, "county", key="zhao")  # zhao's key on county's figures
    assert "signature does not hold for county county" in _refused(runner, keys, tmp_path, impostor)


def test_a_county_without_a_key_at_the_province_is_refused(world, counties):
    runner, tmp_path, keys = counties
    stray = export(runner, tmp_path, "county")
    (keys / "county.pub").unlink()
    assert "no public key for county county" in _refused(runner, keys, tmp_path, stray)


def test_the_same_county_twice_is_refused(world, counties):
    runner, tmp_path, keys = counties
    first = export(runner, tmp_path, "county")
    again = tmp_path / "again.json"
    again.write_bytes(first.read_bytes())
    assert "county county twice" in _refused(runner, keys, tmp_path, first, again)


def test_a_signed_file_of_another_shape_is_refused(world, counties):
    from points.reports.province import signed

    runner, tmp_path, keys = counties
    document = signed(
        {
            "format": "points-county-stats/1",
            "county": {"code": "county", "name": "隆化县"},
            "year": 2026,
            "exported_at": "2026-12-01T00:00:00+00:00",
            "schemes": [{"scheme": "longhua", "name": "x", "holders": -1}],
        },
        tmp_path / "county.key",
    )
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(document), encoding="utf-8")
    assert "not a statistics file this version reads" in _refused(runner, keys, tmp_path, odd)


def test_files_of_two_years_are_refused(world, counties):
    from conftest import local_today

    runner, tmp_path, keys = counties
    this = export(runner, tmp_path, "county")
    last = export(runner, tmp_path, "zhao", year=local_today().year - 1)
    assert "several years" in _refused(runner, keys, tmp_path, this, last)


def test_export_names_the_county_when_the_database_has_several(world, counties):
    runner, tmp_path, _ = counties
    done = runner.invoke(
        args=["stats", "export", "--year", "2026", "--key", str(tmp_path / "county.key")]
    )
    assert done.exit_code == 1 and "--unit" in done.output and "county, zhao" in done.output


def test_keygen_never_overwrites_a_key(world, counties):
    runner, tmp_path, _ = counties
    done = runner.invoke(args=["stats", "keygen", "--out", str(tmp_path / "county.key")])
    assert done.exit_code == 1 and "already exists" in done.output
    assert oct((tmp_path / "county.key").stat().st_mode & 0o777) == "0o600"
