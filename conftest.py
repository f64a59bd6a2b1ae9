"""Repo-wide test configuration: one app for the whole run (see erp_core/testing.py)."""
import pytest


@pytest.fixture(scope="session")
def houqin_config():
    # the test-only module exercises every erp_core feature
    return {"HOUQIN_EXTRA_MODULES": ["tests.sample_module"]}
