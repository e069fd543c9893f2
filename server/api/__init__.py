"""The HTTP API: one flask-smorest Blueprint per resource, registered under /api/v1."""

from http import HTTPStatus

from flask import Flask

from ..data.extensions import api


def documented_errors(blp, *codes: int):
    """Document the error answers an endpoint can give, all in the one error shape."""

    def decorate(view):
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        auth,
        clinic,
        entries,
        exports,
        flags,
        meta,
        outcomes,
        passkeys,
        patients,
        reminders,
        reports,
        safety,
        sessions,
        vocabularies,
    )

    api.init_app(app)
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for module in (
        meta,
        auth,
        passkeys,
        clinic,
        admin,
        patients,
        entries,
        safety,
        sessions,
        reports,
        reminders,
        outcomes,
        flags,
        exports,
        vocabularies,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(meta.probes)
