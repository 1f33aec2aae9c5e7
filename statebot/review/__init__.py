"""Risk review: diagrams and the invariants document generated from the tables and tests."""
