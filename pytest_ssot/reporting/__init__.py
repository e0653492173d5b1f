"""Reporting: everything that turns results into text, files or annotations."""
