"""Records and rules: jobs and their status machine, customers."""
