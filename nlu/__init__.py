"""Understanding patients' messages: text in, intent and normalised entities out.

Knows nothing of booking or bots; the catalogue is handed to it as data.
"""
