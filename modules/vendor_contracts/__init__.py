"""Outsourced vendors, service contracts and the monthly quality assessment."""
