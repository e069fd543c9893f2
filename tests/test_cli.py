"""`flask create-clinician`: the first clinic and admin on a new install."""

from server.data.extensions import db
from server.data.models import Clinic, User
from tests.conftest import READY_CRISIS, Browser, database


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
    assert "create-clinician" not in runner.invoke(args=["first-run-hint"]).output


def test_a_new_clinic_has_no_crisis_resources_and_both_commands_say_to_set_them(app):
    runner = app.test_cli_runner()
    assert "crisis resources" in runner.invoke(args=["first-run-hint"]).output

    created = run(app, "g@example.org", "--clinic", "North", "--admin", "--password-stdin")

    assert "crisis resources" in created.output
    with database(app) as session:
        assert session.scalar(db.select(Clinic)).crisis_ready is False
    hint = runner.invoke(args=["first-run-hint"]).output
    assert "'North' has no crisis resources" in hint


def test_the_hint_is_silent_once_every_clinic_has_its_crisis_resources(app):
    runner = app.test_cli_runner()
    run(app, "h@example.org", "--clinic", "North", "--admin", "--password-stdin")
    with database(app) as session:
        session.scalar(db.select(Clinic)).crisis = READY_CRISIS
        session.commit()

    assert runner.invoke(args=["first-run-hint"]).output == ""


def test_the_synthetic_clinic_has_crisis_resources_and_accepts_patients(app):
    result = app.test_cli_runner().invoke(
        args=["synthetic-clinic", "--name", "Demo", "--patients", "1", "--years", "0.1"]
    )
    assert result.exit_code == 0, result.output
    with database(app) as session:
        clinic = session.scalar(db.select(Clinic).where(Clinic.name == "Demo"))
        assert clinic.crisis_ready is True
        assert clinic.crisis["crisis_line"]["phone"]
        admin = session.scalar(db.select(User).where(User.clinic_id == clinic.id, User.is_admin))
        email = admin.email
    browser = Browser(app)
    assert browser.login(email, "synthetic patient password").status_code == 200
    assert browser.get("/api/v1/clinic").json["crisis_ready"] is True
