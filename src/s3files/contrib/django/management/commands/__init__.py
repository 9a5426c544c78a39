"""``manage.py bucket_setup``."""
