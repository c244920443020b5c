"""Metered usage: what organizations store, transfer and request (issue "usage and
invoices"). ``pricing`` turns totals into charges; the importer and the pages build on it."""
