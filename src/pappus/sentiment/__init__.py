"""Comment sentiment (Chinese and English), shipped with the package: see model.py."""
