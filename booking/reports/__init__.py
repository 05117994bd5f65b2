"""Statistics for the back office (B7): what is counted, the tables, and reading them."""
