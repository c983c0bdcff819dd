"""Reflex state classes: thin. Authorize, call a service, copy the result into vars."""
