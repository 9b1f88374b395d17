"""gankit.train.loop."""
