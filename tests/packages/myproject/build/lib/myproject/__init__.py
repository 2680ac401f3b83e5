"""A sample application for onebin's tests."""
