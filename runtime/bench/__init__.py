"""The benchmark: methods x instances x budgets, its records and its report."""
