"""Tests of the Interactive Brokers edge, and the fake gateway they run against."""
