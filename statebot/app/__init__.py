"""Composition: the runner, simulations, scenarios, reports and the live session."""
