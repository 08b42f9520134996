"""Accounts: registration, login and logout, sessions, passwords, names and addresses."""
