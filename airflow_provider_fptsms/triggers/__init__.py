"""Triggers: wait in the triggerer (never send from here — a restarted triggerer runs them again)."""
