"""Sensors: deferrable waits for QC campaign approval, sending and delivery reports."""
