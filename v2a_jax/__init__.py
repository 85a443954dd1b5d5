"""v2a-jax."""
