"""Imports nothing that reads data: only fmtpkg.config.manager does."""
