"""The subcommands, grouped by what they act on; each module lists its ``COMMANDS``."""
