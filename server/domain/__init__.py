"""Pure clinical rules: no Flask, no database. Scales as data, outcome rules, schedule."""
