"""The PWA's modules, read as files: who imports whom, and what the service worker precaches.

STYLE.md: app.js is the router only; views never import each other or the router; the
patient's screens open offline, so the precache holds every module they load.
"""

from __future__ import annotations

import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"
STATIC_IMPORT = re.compile(r"^import\s[^'\"]*['\"](\.{1,2}/[^'\"]+)['\"]", re.MULTILINE)
DYNAMIC_IMPORT = re.compile(r"import\(\s*['\"](\.{1,2}/[^'\"]+)['\"]\s*\)")
# The screens a patient may open offline (enrolling, a reset code and reminders need the server).
PATIENT_VIEWS = ["home", "signin", "checkin", "rating", "report", "history", "data", "help"]


def module(path: Path) -> str:
    return "/" + path.relative_to(PWA).as_posix()


def imports(name: str, pattern: re.Pattern = STATIC_IMPORT) -> set[str]:
    """The modules `name` ("/views/home.js") imports, as absolute paths like "/session.js"."""
    path = PWA / name.lstrip("/")
    return {module((path.parent / found).resolve()) for found in pattern.findall(path.read_text())}


def every_module() -> list[str]:
    return sorted(module(p) for p in PWA.rglob("*.js") if p.name != "sw.js")


def closure(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imports(name))
    return seen


def test_views_import_neither_each_other_nor_the_router():
    for name in every_module():
        found = imports(name)
        assert "/app.js" not in found, name
        if name.startswith("/views/"):
            assert not [other for other in found if other.startswith("/views/")], name


def test_the_router_loads_every_view_and_nothing_else_loads_one():
    views = {module(p) for p in (PWA / "views").glob("*.js")}
    assert imports("/app.js", DYNAMIC_IMPORT) == views
    for name in every_module():
        if name != "/app.js":
            # Others may load a network-only helper late (push.js), never a view.
            assert not imports(name, DYNAMIC_IMPORT) & views, name


def test_what_loads_late_stays_off_the_first_page():
    """push.js (reminders need the server) is imported only when used, so a first visit
    and the offline app never download it."""
    first_page = closure("/app.js") | closure("/views/signin.js")
    assert "/push.js" not in first_page
    assert "/push.js" in imports("/session.js", DYNAMIC_IMPORT)


def test_no_module_imports_itself_through_others():
    for name in every_module():
        for imported in imports(name):
            assert name not in closure(imported), f"{name} is imported back by {imported}"


def test_the_precache_holds_every_module_the_patient_screens_load():
    shell = set(re.findall(r"^\s*'(/[^']*)',$", (PWA / "sw.js").read_text(), re.MULTILINE))
    needed = closure("/app.js")
    for view in PATIENT_VIEWS:
        needed |= closure(f"/views/{view}.js")

    assert needed <= shell, sorted(needed - shell)
    assert {name for name in shell if name.endswith(".js")} <= set(every_module())
