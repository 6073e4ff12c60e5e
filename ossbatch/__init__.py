"""Operator CLI and job control for ossbatch."""
