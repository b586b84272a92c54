"""Operators: send CSKH messages, create and push QC campaigns, fetch delivery reports."""
