"""Reading a markdown guide: parsing, unwrapping redirect wrappers, rewriting link targets."""
