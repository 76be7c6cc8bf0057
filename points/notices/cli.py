"""`points notices send`: drain the outbox of notices to households (run it from cron)."""

import sys

import click
from flask.cli import with_appcontext


@click.group("notices", help="Notices to households of their entries (the outbox).")
def notices_cli():
    pass


@notices_cli.command("send")
@click.option(
    "--batch",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="notices taken per round",
)
@with_appcontext
def send(batch):
    """Send every queued notice through POINTS_NOTICE_SENDER (default: marked for the slip);
    exit 1 when any send failed (they stay queued and are tried again on the next run)."""
    from points.notices.service import send_queued

    done = send_queued(batch=batch)
    click.echo(f"sent {done['sent']} notices by {done['channel']}, {done['failed']} failed")
    if done["failed"]:
        sys.exit(1)
