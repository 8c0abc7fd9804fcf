"""Version of bpdetect."""

__version__ = "0.1.0"
