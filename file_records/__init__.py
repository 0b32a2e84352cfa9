"""file-records: one daily-refreshed, policy-checked picture of every file an organisation holds."""

__version__ = "0.1.0"
