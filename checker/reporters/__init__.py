"""Reporters turn file reports into text; they never decide anything."""
