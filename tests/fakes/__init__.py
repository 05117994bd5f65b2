"""Local stand-ins for outside parties, spoken to over real HTTP by the real client libraries."""
