"""Edge: the bot's TOML configuration (model, loading, validation).

The model lives in ``statebot.config.model``; the throttle's section in
``statebot.config.throttle``.
"""

from statebot.config.model import Config, IBKRConfig, config_hash, default_toml, load_config, parse_config

__all__ = ["Config", "IBKRConfig", "config_hash", "default_toml", "load_config", "parse_config"]
