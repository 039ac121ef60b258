"""The CLI commands: thin shells that parse options, call a stage, print and exit."""
