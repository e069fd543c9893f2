"""One module per resource: each owns its transaction and raises domain errors."""
