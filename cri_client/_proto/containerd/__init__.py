"""Generated containerd API stubs (scripts/generate.py). DO NOT EDIT."""
