"""The hospital information system (HIS) as a client: its tokens, what it reads, books and
changes, and importing its doctors and sessions."""
