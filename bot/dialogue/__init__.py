"""The channel-neutral dialogue: an Inbound message in, Outbound replies out (see engine.py)."""
