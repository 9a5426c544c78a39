"""``python -m s3files.cli``."""

from s3files.cli import main

main()
