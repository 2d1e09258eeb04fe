"""Knowledge base on the tablet."""
