"""One module per task family: generator, ground-truth solver, rules template, scorer."""
