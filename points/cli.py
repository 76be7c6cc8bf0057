"""Commands: `flask --app wsgi ...`, also installed as `points ...`."""

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from points.errors import PointsError


def _fail(message):
    click.echo(message, err=True)
    sys.exit(1)


@click.group("rules", help="Scoring schemes in rules/*.yaml.")
def rules_cli():
    pass


@rules_cli.command("check")
@click.argument("directory", required=False)
@with_appcontext
def rules_check(directory):
    """Validate every YAML scheme; exit 1 with file, item and reason on error."""
    from points.rules import check_dir, warnings_of_dir

    directory = directory or current_app.config["RULES_DIR"]
    problems = check_dir(directory)
    for problem in problems:
        click.echo(str(problem), err=True)
    for warning in warnings_of_dir(directory):
        click.echo(f"warning: {warning}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"rules in {directory}: all valid")


@rules_cli.command("sync")
@with_appcontext
def rules_sync():
    """Load the schemes into the database (a changed scheme becomes a new version)."""
    from points.schemes.service import sync

    for code, version, outcome in sync(current_app.config["RULES_DIR"]):
        click.echo(f"{code}: version {version} ({outcome})")


@click.group("units", help="The organisation tree.")
def units_cli():
    pass


@units_cli.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["county", "township", "village", "community", "grid", "branch"]),
)
@click.option("--parent", default=None)
@with_appcontext
def units_create(code, name, kind, parent):
    from points.org.service import create_unit_cli

    try:
        unit = create_unit_cli(code, name, kind, parent)
    except PointsError as error:
        _fail(f"{error.message} {error.details or ''}")
    click.echo(f"unit {unit.code} created")


@click.group("holders", help="Households and party members.")
def holders_cli():
    pass


@holders_cli.command("import")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def holders_import(file):
    """导入名单: a CSV of code,name,kind,unit[,pin[,user]] (UTF-8 or GBK), all or nothing;
    exit 1 naming every bad line, nothing imported."""
    from points.org.service import read_holder_list
    from points.users.service import import_holders

    try:
        rows = read_holder_list(file.read())
        with click.progressbar(
            length=len(rows), label=f"{len(rows)} rows: hashing PINs", file=sys.stderr
        ) as bar:
            count = import_holders(None, rows, progress=bar.update)
    except PointsError as error:
        lines = (error.details or {}).get("lines")
        if lines:
            _fail(
                "nothing imported:\n"
                + "\n".join(
                    f"line {line}: {'; '.join(reasons)}"
                    for line, reasons in sorted(lines.items(), key=lambda item: int(item[0]))
                )
            )
        _fail(f"nothing imported: {error.message}")
    click.echo(f"imported {count} holders")


@click.group("users", help="Staff accounts.")
def users_cli():
    pass


ROLE = click.Choice(["admin", "recorder", "reviewer", "clerk"])


@users_cli.command("create")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--role", required=True, type=ROLE)
@click.option("--unit", required=True)
@click.option("--name", "display_name", default="")
@with_appcontext
def users_create(username, password, role, unit, display_name):
    from sqlalchemy.exc import IntegrityError

    from points.users.service import create_user_cli

    if len(password) < 8:
        _fail("the password must have at least 8 characters")
    try:
        create_user_cli(username, password, role, unit, display_name)
    except PointsError as error:
        _fail(f"{error.message} {error.details or ''}")
    except IntegrityError:
        _fail(f"user {username} already exists")
    click.echo(f"user {username} created: {role} of {unit}")


@users_cli.command("grant")
@click.argument("username")
@click.option("--role", required=True, type=ROLE)
@click.option("--unit", required=True)
@with_appcontext
def users_grant(username, role, unit):
    from points.users.service import grant_cli

    try:
        grant_cli(username, role, unit)
    except PointsError as error:
        _fail(f"{error.message} {error.details or ''}")
    click.echo(f"{username}: {role} of {unit}")


@users_cli.command("link")
@click.argument("username")
@click.argument("holder")
@click.option("--remove", is_flag=True, help="remove the link instead")
@with_appcontext
def users_link(username, holder, remove):
    """回避: the holder USERNAME must stand back from (own household, close kin)."""
    from points.users.service import add_link, remove_link

    try:
        linked = (remove_link if remove else add_link)(None, username, holder)
    except PointsError as error:
        _fail(f"{error.message} {error.details or ''}")
    done = "no longer linked to" if remove else "linked to"
    click.echo(f"{username}: {done} {linked.code} {linked.name}")


@click.command("demo")
@with_appcontext
def demo():
    """A ready demo: a Longhua village, a Shita branch, one user per role (never in production)."""
    from points.demo import WARNING, load

    if current_app.config.get("ENV_NAME") == "production":
        _fail("demo refused with POINTS_ENV=production: its users share one published password")
    for line in load():
        click.echo(line)
    click.echo(WARNING, err=True)


@click.command("secret-key")
@with_appcontext
def secret_key():
    """Say where the key that signs the page sessions comes from (never the key itself)."""
    click.echo(f"session signing key: {current_app.config['SECRET_KEY_SOURCE']}")


@click.command("settle")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="post entries whose notice ended before this day (default today)",
)
@with_appcontext
def settle(as_of):
    """Post entries whose public notice has ended without objection."""
    from points.settling import settle_due

    posted = settle_due(as_of.date() if as_of else None)
    click.echo(f"posted {posted} entries")


@click.group("ledger", help="The points ledger.")
def ledger_cli():
    pass


@ledger_cli.command("verify")
@with_appcontext
def ledger_verify():
    """Recompute every running figure and every posting's hash; exit 1 naming each that
    disagrees. The bar counts postings rehashed, the long part at county scale."""
    from points.ledger.checks import posting_count
    from points.verify import verify
    from points.metrics import write_verify_status

    with click.progressbar(length=posting_count(), label="hash chains", file=sys.stderr) as bar:
        checked, problems = verify(progress=bar.update)
    for problem in problems:
        click.echo(problem, err=True)
    write_verify_status(
        current_app, not problems, len(problems)
    )  # points_ledger_verify_ok in /metrics
    click.echo(f"checked {checked}: {'all agree' if not problems else f'{len(problems)} disagree'}")
    if problems:
        sys.exit(1)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=True))
@with_appcontext
def backup(file):
    """A consistent copy of the whole database, while the service runs."""
    from points.backup import backup as run
    from points.extensions import db

    try:
        click.echo(run(db.engine, file))
    except PointsError as error:
        _fail(error.message)


@click.command("restore")
@click.argument("file", type=click.Path())
@with_appcontext
def restore(file):
    """Restore a backup into an empty database; then run `ledger verify`."""
    from points.backup import restore as run
    from points.extensions import db

    try:
        click.echo(run(db.engine, file))
    except PointsError as error:
        _fail(error.message)


@click.command("replica")
@with_appcontext
def replica_check():
    """Say whether POINTS_REPLICA_URL is a hot standby that answers, and how far behind it is."""
    from points import replica

    standby = replica.of(current_app)
    if standby is None:
        _fail("POINTS_REPLICA_URL is not set: reports read the primary")
    state, lag, reason = standby.probe()
    if state != "ok":
        _fail(replica.MESSAGES[state].format(reason=reason))
    click.echo(f"{replica.MESSAGES['ok']}: {lag if lag is not None else '?'} s behind the primary")


@click.group("stats", help="A county's year for the province: signed statistics files.")
def stats_cli():
    pass


@stats_cli.command("keygen")
@click.option(
    "--out", "path", required=True, type=click.Path(dir_okay=False), help="the private key to write"
)
def stats_keygen(path):
    """A county's Ed25519 signing key (PATH, 0600), its public half (PATH.pub) for the province."""
    from points.reports.province import make_key

    try:
        public = make_key(path)
    except PointsError as error:
        _fail(error.message)
    click.echo(
        f"private key: {path} (keep it here); public key: {public} (give it to the province "
        "as <county code>.pub)"
    )


@stats_cli.command("export")
@click.option("--year", required=True, type=int)
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="the county's private key",
)
@click.option("--unit", default=None, help="the county's unit code (default: the one top unit)")
@click.option(
    "--out",
    "out_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="default <county>-<year>.json",
)
@with_appcontext
def stats_export(year, key_path, unit, out_path):
    """Write the county's statistics of YEAR as a signed JSON file."""
    from points.reports.province import export

    try:
        click.echo(f"written {export(unit, year, key_path, out_path)}")
    except PointsError as error:
        _fail(error.message)


@stats_cli.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--keys",
    "keys_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="the counties' public keys, <county code>.pub each",
)
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False), help=".csv or .xlsx"
)
def stats_merge(files, keys_dir, out_path):
    """Check every county's file (signature, schema, one per county), write one province table."""
    from points.reports.province import merge, write_table

    try:
        year, rows = merge(files, keys_dir)
        click.echo(f"{year}: {len(files)} counties merged into {write_table(year, rows, out_path)}")
    except PointsError as error:
        _fail(f"nothing merged: {error.message}")


def register(app):
    for command in (
        rules_cli,
        units_cli,
        holders_cli,
        users_cli,
        demo,
        secret_key,
        settle,
        ledger_cli,
        backup,
        restore,
        stats_cli,
        replica_check,
    ):
        app.cli.add_command(command)
    from points.notices.cli import notices_cli

    app.cli.add_command(notices_cli)


def main():
    """The installed `points` command."""
    from points import create_app

    FlaskGroup(create_app=create_app)(prog_name="points")
