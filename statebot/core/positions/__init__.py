"""The position book, the flattener and reconciliation against the venue."""
