"""The stages (check, stateless check, collect, digest) and the cycle that runs them."""
