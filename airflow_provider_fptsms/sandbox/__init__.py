"""A local simulator of the FPT SMS Brandname and Fibo SMS gateways, for tests, demos and benchmarks.

Run it with ``fptsms-sandbox`` or start it from Python with :class:`SandboxServer`.
"""
