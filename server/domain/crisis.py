"""What a patient sees at once when a safety item is positive (PHQ-9 item 9 above 0)."""

# A clinic replaces this with its own text (PATCH /api/v1/clinic {"crisis_text"}). The PWA
# always adds, in its own words, that answers are not watched around the clock.
DEFAULT_CRISIS_TEXT = """\
If you are thinking about ending your life or hurting yourself, please reach out now.
In an emergency, call your local emergency number: 112 in Europe, 911 in the US and Canada, \
999 in the UK.
Call or text a crisis line: [crisis line number, set by your clinic].
Call your clinic: [clinic phone number and opening hours, set by your clinic]."""


def crisis_text_of(clinic) -> str:
    return clinic.crisis_text or DEFAULT_CRISIS_TEXT
