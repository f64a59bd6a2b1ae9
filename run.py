#!/usr/bin/env python3
"""Houqin command line: `python run.py --help`."""
from erp_core.cli import main

if __name__ == "__main__":
    main()
