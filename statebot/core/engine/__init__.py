"""The engine: the per-bar pipeline's pure parts and the fold that rebuilds the bot's state from its log."""
