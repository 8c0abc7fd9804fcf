"""`python -m bpdetect` runs the command line."""

from .cli import main

main()
