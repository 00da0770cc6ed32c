"""lakebox's version, in the kernel layer so any layer may record it (backups do)."""

__version__ = "0.1.0"
