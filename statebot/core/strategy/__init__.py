"""The strategy protocol, its registry and the built-in demo strategies."""
