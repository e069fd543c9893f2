"""Safety rules beyond scoring: which answers travel at once as signals, what raised a flag,
and how long it has been open. Pure Python: no Flask, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

from .instruments import INSTRUMENTS, Instrument

# A patient's answer is sent the moment it is given only for the scales a patient fills in;
# a clinician's MADRS arrives whole, as an entry.
SIGNAL_INSTRUMENTS = tuple(
    instrument.id
    for instrument in INSTRUMENTS.values()
    if instrument.rater == "self" and instrument.safety_items
)
SIGNAL_ITEMS = tuple(
    sorted(item for name in SIGNAL_INSTRUMENTS for item in INSTRUMENTS[name].safety_items)
)
DEFAULT_FLAG_OVERDUE_HOURS = 24


def signal_errors(instrument_id: str, item_id: str, answer: int) -> dict:
    """What a signal's item and answer break of its instrument: {} when it may open a flag."""
    instrument = INSTRUMENTS[instrument_id]
    threshold = instrument.safety_items.get(item_id)
    if threshold is None:
        return {"item": [f"Not a safety item of {instrument.name}."]}
    if answer not in instrument.option_values:
        lowest, highest = min(instrument.option_values), max(instrument.option_values)
        return {"answer": [f"Must be a whole number from {lowest} to {highest}."]}
    if answer < threshold:
        return {"answer": [f"Only an answer of {threshold} or more is a safety signal."]}
    return {}


def _item(instrument: Instrument, item_id: str) -> tuple[int, str]:
    """The item's number (1-based) and text."""
    for position, item in enumerate(instrument.items, start=1):
        if item.id == item_id:
            return position, item.text
    raise KeyError(item_id)


def _answer_label(instrument: Instrument, answer: int | None) -> str | None:
    return next((o.label for o in instrument.options if o.value == answer), None)


def describe(instrument_id: str, item_id: str, answer: int | None) -> dict:
    """The answer that raised a flag, in words: instrument, item number and text, label."""
    instrument = INSTRUMENTS[instrument_id]
    number, text = _item(instrument, item_id)
    return {
        "instrument": instrument.id,
        "item": item_id,
        "item_number": number,
        "item_text": text,
        "answer": answer,
        "answer_label": _answer_label(instrument, answer),
    }


def safety_answers(instrument_id: str, answers: list) -> list[tuple[str, int | None]]:
    """An entry's safety items and their answers, in item order."""
    instrument = INSTRUMENTS[instrument_id]
    return [
        (item.id, answer)
        for item, answer in zip(instrument.items, answers, strict=False)
        if item.id in instrument.safety_items
    ]


def raised_by(entry, signal) -> dict | None:
    """What raised a flag: the entry when its own safety answer is positive, else the signal.

    An entry that joins a signal's flag with its item now at 0 did not raise it: the answer
    given before (the signal) did. `entry` and `signal` are anything with the models' fields.
    """
    entry_items = safety_answers(entry.instrument, entry.answers) if entry is not None else []
    thresholds = INSTRUMENTS[entry.instrument].safety_items if entry is not None else {}
    for item_id, answer in entry_items:
        if answer is not None and answer >= thresholds[item_id]:
            return describe(entry.instrument, item_id, answer)
    if signal is not None:
        return describe(signal.instrument, signal.item, signal.answer)
    if entry_items:  # an imported flag on an entry whose answer is not positive
        item_id, answer = entry_items[0]
        return describe(entry.instrument, item_id, answer)
    return None


def strongest(signals) -> object | None:
    """The signal a flag shows: the highest answer, the first received among equals."""
    return max(signals, key=lambda signal: signal.answer, default=None)


def hours(delta: timedelta) -> float:
    """A duration in hours, to one decimal."""
    return round(delta.total_seconds() / 3600, 1)


def is_overdue(opened_at: datetime, now: datetime, overdue_hours: int) -> bool:
    """An open flag is overdue once it is older than the clinic's limit."""
    return now - opened_at > timedelta(hours=overdue_hours)
