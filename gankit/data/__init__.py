"""gankit.data.mnist."""
