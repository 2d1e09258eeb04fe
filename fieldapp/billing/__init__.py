"""Gas bills: the tiered price (tariff.py), shared by the back office and the portal."""
