"""Switching-activity capture, gate-level proxy and energy tables."""
