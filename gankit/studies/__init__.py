"""gankit.studies."""
