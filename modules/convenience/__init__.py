"""Front desk convenience services: small sales, belongings storage, bookings."""
