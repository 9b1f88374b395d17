"""gankit.evaluate."""
