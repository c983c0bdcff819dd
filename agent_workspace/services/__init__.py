"""Domain logic: plain Python, no Reflex import. Each function does one business action."""
