"""`flask create-clinician`: the first clinic and admin on a new install."""

from server.data.extensions import db
from server.data.models import Clinic, User
from tests.conftest import Browser, database


def run(app, *args, password="a fine long password\n"):
    return app.test_cli_runner().invoke(args=["create-clinician", *args], input=password)


def test_it_creates_the_first_clinic_and_admin_who_can_sign_in(app):
    result = run(
        app, "Admin@Example.org", "--clinic", "North Clinic", "--admin", "--password-stdin"
    )
    assert result.exit_code == 0, result.output
    with database(app) as session:
        user = session.scalar(db.select(User).where(User.email == "admin@example.org"))
        assert user.is_admin and user.role == "clinician"
        assert user.password_hash.startswith("$argon2id$")
    assert Browser(app).login("admin@example.org", "a fine long password").status_code == 200


def test_run_again_with_the_same_clinic_it_adds_a_clinician_to_it(app):
    run(app, "a@example.org", "--clinic", "North", "--admin", "--password-stdin")
    result = run(app, "b@example.org", "--clinic", "North", "--password-stdin")
    assert result.exit_code == 0, result.output
    with database(app) as session:
        assert session.scalar(db.select(db.func.count()).select_from(Clinic)) == 1
        second = session.scalar(db.select(User).where(User.email == "b@example.org"))
        assert not second.is_admin


def test_it_asks_for_the_password_twice_without_stdin(app):
    result = run(
        app, "c@example.org", "--clinic", "North", password="long password 1\nlong password 1\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output


def test_it_refuses_a_short_password_and_an_existing_email(app):
    short = run(app, "d@example.org", "--clinic", "North", "--password-stdin", password="short\n")
    assert short.exit_code != 0
    assert "10 characters" in short.output
    run(app, "e@example.org", "--clinic", "North", "--password-stdin")
    again = run(app, "e@example.org", "--clinic", "North", "--password-stdin")
    assert again.exit_code != 0
    with database(app) as session:
        assert session.scalar(db.select(db.func.count()).select_from(User)) == 1


def test_the_server_prints_how_to_create_the_first_clinician_only_when_there_is_none(app):
    runner = app.test_cli_runner()
    assert "create-clinician" in runner.invoke(args=["first-run-hint"]).output
    run(app, "f@example.org", "--clinic", "North", "--admin", "--password-stdin")
    assert runner.invoke(args=["first-run-hint"]).output == ""
