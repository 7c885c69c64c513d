"""zonewarden: get hacked sites, phishing and malware off a country-code zone."""

__version__ = "0.1.0"
