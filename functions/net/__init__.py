"""Outbound network policy shared by everything that fetches or posts to a caller-given URL."""
