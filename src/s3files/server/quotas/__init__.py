"""Usage and quotas: what each owner stores, and the limits admins set."""
