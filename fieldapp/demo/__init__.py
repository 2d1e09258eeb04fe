"""Seeded demo data for FieldApp: a fictional Nanjing gas utility, plus printable meter barcodes.

Use :func:`fieldapp.demo.generate.generate` for the records and
:mod:`fieldapp.demo.barcodes` for the PNG labels.
"""
