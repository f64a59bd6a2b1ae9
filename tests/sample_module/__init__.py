"""A test-only module exercising every erp_core feature (enabled by tests/conftest.py)."""
