"""Trade outcomes, reliability metrics and the learning loop that drives the throttle."""
