"""Procurement tendering: budget lines, tenders, sealed bids, the evaluation committee and the award."""
