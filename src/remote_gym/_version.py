__version__ = "1.1.0"
"""The release of this package (the distribution's version, read by the build from this line)."""
