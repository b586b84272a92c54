"""Notifiers: an SMS when a task or DAG fails (or succeeds), through FPT or Fibo."""
