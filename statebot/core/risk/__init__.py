"""Entry gates and position sizing."""
