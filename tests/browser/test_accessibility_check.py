"""The accessibility check every screen test relies on finds what it should: a check that
always came back empty would pass every screen."""

from __future__ import annotations

from tests.browser.conftest import axe_violations


def test_the_axe_check_finds_a_nameless_button_and_an_image_without_text(page):
    page.goto("/")
    page.evaluate(
        """() => {
            const image = document.createElement('img');
            image.src = '/icon.svg';
            document.body.append(image, document.createElement('button'));
        }"""
    )

    found = {violation["id"] for violation in axe_violations(page)}

    assert {"image-alt", "button-name"} <= found
    # A second check on the same document (axe already injected) sees them too.
    assert {"image-alt", "button-name"} <= {v["id"] for v in axe_violations(page)}
