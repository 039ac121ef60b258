"""Settings: TOML file + environment, validation, embedded defaults, the bundled guide."""
