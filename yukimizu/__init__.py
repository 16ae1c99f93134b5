"""yukimizu (雪水): telemetry for snow-country farms and roads. Shared contract, settings, servers and CLI."""
__version__ = "0.1.0"
