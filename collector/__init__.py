"""Everything that reads the outside world, and the pure parsing beside it."""
