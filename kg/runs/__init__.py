"""Runs: validated, traced, recorded executions of harvested workflows."""
