"""pulpwood: a content repository manager that speaks the Pulp API."""

__version__ = "0.1.0"
