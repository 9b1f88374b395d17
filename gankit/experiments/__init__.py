"""gankit.experiments."""
