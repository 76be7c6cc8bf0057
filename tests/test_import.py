"""Importing a village's household list: all or nothing, every refusal naming its line, by the
command line (`points holders import FILE`) and the admin page alike."""

from test_pages import form_token, html, staff  # noqa: F401  (fixture)
from test_pages_admin import holder_codes

HEADER = "code,name,kind,unit,pin\n"


def run_import(world, tmp_path, data):
    path = tmp_path / "名单.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return world.app.test_cli_runner().invoke(args=["holders", "import", str(path)])


def test_the_command_line_imports_a_list_with_pins_that_residents_then_use(world, tmp_path):
    rows = (
        "".join(f"N{n:02d},户{n},household,g1,{2000 + n}\n" for n in range(12))
        + "N99,无密码,户,g2,\n"
    )
    result = run_import(world, tmp_path, HEADER + rows)
    assert result.exit_code == 0, result.output + result.stderr
    assert "imported 13 holders" in result.output
    assert "hashing PINs" in result.stderr  # the progress bar
    assert {f"N{n:02d}" for n in range(12)} <= set(holder_codes(world, "g1"))
    assert (
        world.anonymous.post("/public/balance", json={"holder": "N07", "pin": "2007"}).status == 200
    )
    assert (
        world.anonymous.post("/public/balance", json={"holder": "N07", "pin": "2008"}).status == 401
    )


def test_one_bad_line_at_the_end_refuses_the_whole_list_naming_it(world, tmp_path):
    rows = (
        "".join(f"N{n:02d},户{n},household,g1,1234\n" for n in range(30))
        + "N30,户,household,nowhere,1234\n"
    )
    result = run_import(world, tmp_path, HEADER + rows)
    assert result.exit_code == 1
    assert "line 32: unknown unit" in result.stderr
    assert "line 31" not in result.stderr
    assert not any(code.startswith("N") for code in holder_codes(world, "g1"))


def test_a_list_of_more_than_5000_rows_is_refused_at_the_5001st(world, tmp_path):
    rows = "".join(f"M{n:04d},户,household,g1\n" for n in range(5001))
    result = run_import(world, tmp_path, HEADER + rows)
    assert result.exit_code == 1
    assert "line 5002: more than 5000 rows" in result.stderr  # the header is line 1
    assert not any(code.startswith("M") for code in holder_codes(world, "g1"))


def test_a_file_that_is_not_csv_text_is_refused_naming_the_line(world, tmp_path):
    result = run_import(
        world, tmp_path, HEADER.encode() + b"N1,a,household,g1\nN2,\x00b,household,g1\n"
    )
    assert result.exit_code == 1
    assert "line 3: not CSV text" in result.stderr
    assert "N1" not in holder_codes(world, "g1")


def test_a_file_neither_utf8_nor_gbk_is_refused_naming_the_line(world, tmp_path):
    result = run_import(
        world, tmp_path, HEADER.encode() + b"N1,a,household,g1\nN2,\xff\xfe,household,g1\n"
    )
    assert result.exit_code == 1
    assert "line 3: not UTF-8 or GBK text" in result.stderr
    assert "N1" not in holder_codes(world, "g1")


def test_the_page_refuses_a_list_in_neither_encoding_naming_the_line(world, staff):  # noqa: F811
    import io

    client = staff("admin")
    token = form_token(client, "/admin/holders")
    data = (
        "编号,姓名,类型,单位\nH40,孙七,农户,g1\n".encode("gb18030") + b"H41,\xff\xff,household,g1\n"
    )
    answer = client.post(
        "/admin/holders/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "名单.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    page = html(answer)
    assert "第 3 行</strong> not UTF-8 or GBK text" in page, page[page.find("import-errors") :][
        :600
    ]
    assert "H40" not in holder_codes(world, "g1")
