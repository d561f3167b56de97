"""Generated CRI runtime.v1 stubs (scripts/generate.py). DO NOT EDIT."""
