"""The runtime: what builds the application once from the settings (the composition root) and
runs it, the same way for `guahao serve`, `guahao worker` and one-off rounds."""
