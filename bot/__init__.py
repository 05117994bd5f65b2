"""The application: dialogue engine, texts, settings, and the ``guahao`` command line
(the composition root that wires the booking domain, the NLU and the channels together)."""
