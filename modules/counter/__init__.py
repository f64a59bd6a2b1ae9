"""One counter screen for the front desk: lend, take back, sell, store — scan and go."""
