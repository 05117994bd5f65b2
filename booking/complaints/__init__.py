"""Complaints and suggestions (投诉建议): filing them, tracking numbers, and what staff do with
them."""
