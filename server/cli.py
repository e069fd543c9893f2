"""Command-line tasks: `flask --app server create-clinician ...`."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import inspect

from .api.schemas import TIMEZONES
from .data.extensions import db
from .data.models import Clinic, User
from .services.accounts import hash_password

MIN_PASSWORD = 10


@click.command("create-clinician")
@click.argument("email")
@click.option("--clinic", "clinic_name", required=True, help="The clinic's name (created if new).")
@click.option("--name", "display_name", default=None, help="Display name (default: the email).")
@click.option("--admin", is_flag=True, help="Make the clinician a clinic admin.")
@click.option("--timezone", default="UTC", help="Time zone of a new clinic (IANA name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_clinician(email, clinic_name, display_name, admin, timezone, password_stdin):
    """Create a clinician (and their clinic, if it does not exist yet)."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("must be an email address", param_hint="EMAIL")
    if timezone not in TIMEZONES:
        raise click.BadParameter("must be an IANA time zone name", param_hint="--timezone")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password must be at least {MIN_PASSWORD} characters.")
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise click.ClickException(f"{email} already has an account.")

    clinic = db.session.scalar(db.select(Clinic).where(Clinic.name == clinic_name))
    if clinic is None:
        clinic = Clinic(name=clinic_name, timezone=timezone)
        db.session.add(clinic)
    db.session.add(
        User(
            email=email,
            password_hash=hash_password(password),
            role="clinician",
            is_admin=admin,
            display_name=display_name or email,
            clinic=clinic,
        )
    )
    db.session.commit()
    role = "clinic admin" if admin else "clinician"
    click.echo(f"Created {role} {email} in clinic {clinic.name!r}.")
    if not clinic.crisis_ready:
        click.echo(CRISIS_HINT.format(name=clinic.name))


CRISIS_HINT = (
    "Clinic {name!r} has no crisis resources yet: sign in as its admin and set them "
    "(Admin → Crisis resources: the crisis line and the clinic's phone). Patients can be "
    "added only once they are set."
)


@click.command("first-run-hint")
@with_appcontext
def first_run_hint():
    """Say how to create the first clinician, and which clinics still lack crisis resources."""
    if not inspect(db.engine).has_table("user_account"):
        return
    if not db.session.scalar(db.select(User.id).where(User.role == "clinician").limit(1)):
        click.echo(
            "\nNo clinician exists yet. In another terminal, create the first one (it asks for "
            "a password):\n\n"
            "  .venv/bin/flask --app server create-clinician "
            'you@example.org --clinic "Your clinic" --admin\n\n'
            "Then sign in and set the clinic's crisis resources (Admin → Crisis resources): "
            "patients can be added only once they are set.\n"
        )
        return
    for clinic in db.session.scalars(db.select(Clinic).order_by(Clinic.name)):
        if not clinic.crisis_ready:
            click.echo("\n" + CRISIS_HINT.format(name=clinic.name))


@click.command("synthetic-clinic")
@click.option("--name", default="Synthetic Clinic", help="The new clinic's name.")
@click.option("--patients", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--years", default=2.0, show_default=True, type=click.FloatRange(0.1, 10))
@click.option("--seed", default=1, show_default=True, type=int)
@with_appcontext
def synthetic_clinic(name, patients, years, seed):
    """Create an invented clinic with realistic trajectories (benchmarks and demos only)."""
    from .services.synthetic import SYNTHETIC_PASSWORD, build_clinic, clinician_of

    if db.session.scalar(db.select(Clinic.id).where(Clinic.name == name)):
        raise click.ClickException(f"A clinic named {name!r} already exists.")
    clinic = build_clinic(name, patients, years, seed)
    click.echo(
        f"Created {name!r} with {patients} patients. Sign in as {clinician_of(clinic).email} "
        f"with password {SYNTHETIC_PASSWORD!r}."
    )


@click.command("remove-passkeys")
@click.argument("email")
@with_appcontext
def remove_passkeys(email):
    """Remove every passkey of an account (a lost device, when no other admin can): its
    password signs in again, and the app asks for a new passkey where the clinic requires one."""
    from .services import passkeys

    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account has the email {email}.")
    count = len(user.passkeys)
    passkeys.remove_all_of(user, admin=None)
    click.echo(f"Removed {count} passkey{'s' if count != 1 else ''} of {user.email}.")


@click.command("send-reminders")
@click.option(
    "--at",
    "at",
    default=None,
    help="Evaluate as if it were this ISO 8601 time (with an offset), for catch-up and tests.",
)
@click.option("--loop", is_flag=True, help="Send again every minute until stopped.")
@with_appcontext
def send_reminders(at, loop):
    """Send the web push reminders that are due (safe with several senders at once)."""
    from .services import reminders

    moment = None
    if at is not None:
        if loop:
            raise click.BadParameter(
                "--at evaluates one moment: not with --loop", param_hint="--at"
            )
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("must be an ISO 8601 time", param_hint="--at") from None
        if moment.utcoffset() is None:
            raise click.BadParameter("must include an offset, e.g. +01:00 or Z", param_hint="--at")
        moment = moment.astimezone(UTC).replace(microsecond=0)
    while True:
        try:
            result = reminders.send_due(moment)
        except Exception:  # a lost database connection must not stop the clock for good
            if not loop:
                raise
            db.session.rollback()
            reminders.log.exception("The reminder pass failed; trying again in a minute.")
        else:
            click.echo(
                f"{result.due} due, {result.sent} sent, {result.retrying} to retry, "
                f"{result.failed} failed, {result.subscriptions_removed} subscriptions removed"
            )
        finally:
            db.session.remove()
        if not loop:
            return
        # The next pass at the start of the next minute (time_of_day is to the minute).
        time.sleep(max(1.0, 60 - time.time() % 60))


def register(app: Flask) -> None:
    app.cli.add_command(create_clinician)
    app.cli.add_command(remove_passkeys)
    app.cli.add_command(first_run_hint)
    app.cli.add_command(synthetic_clinic)
    app.cli.add_command(send_reminders)
