"""gankit.plots.curves."""
