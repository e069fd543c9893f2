"""The newcomer's path from the README, through HTTP only."""

from tests.conftest import Browser, database, entry_body


def test_a_clinician_enrolls_a_patient_who_submits_and_lists_phq9_entries(app, world):
    clinician = world.as_clinician_x()
    created = clinician.post("/api/v1/patients", json={"display_name": "New Patient"})
    assert created.status_code == 201
    code = created.json["enrollment"]["code"]
    assert created.json["enrollment"]["url"].endswith(f"/#code={code}")

    patient = Browser(app)
    enrolled = patient.post(
        "/api/v1/auth/enroll",
        json={"code": code, "email": "new@example.org", "password": "a long password"},
    )
    assert enrolled.status_code == 201
    patient.csrf_token = enrolled.json["csrf_token"]

    body = entry_body(answers=[3, 3, 3, 3, 3, 2, 2, 1, 0])
    stored = patient.post("/api/v1/patients/me/entries", json=body)
    assert stored.status_code == 201
    assert (stored.json["total"], stored.json["severity"]) == (20, "severe")

    listed = patient.get("/api/v1/patients/me/entries")
    assert [item["id"] for item in listed.json["items"]] == [body["id"]]
    seen_by_clinician = clinician.get(f"/api/v1/patients/{created.json['patient']['id']}/entries")
    assert [item["total"] for item in seen_by_clinician.json["items"]] == [20]
    with database(app):
        pass
